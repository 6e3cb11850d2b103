/* comm.h — the processes of a data-parallel training run, and the one
 * collective it needs.
 *
 * A program built with environment.distributed = mpi runs as `size` copies
 * (ranks) under mpirun. Every rank loads and cleans all the data and runs
 * every step; only a batch's gradient is split: the batch is cut into
 * environment.shards slices at fixed row boundaries, each rank computes the
 * gradients of its consecutive share of the slices, and the ranks exchange
 * their partial sums (see mlprt_shard_step in train/shard.c). The weights
 * therefore depend on the slice count, never on the rank count.
 *
 * libmlpmpi.a (runtime/train/mpi.c, built by make when Open MPI's mpicc is
 * present) provides mlprt_mpi_open; a training program's descriptor points
 * at it, and the program is linked by mpicc. */
#ifndef MLP_COMM_H
#define MLP_COMM_H

#include <stddef.h>

typedef struct MlprtComm MlprtComm;
struct MlprtComm {
  int rank, size;
  /* all [size * n] receives every rank's mine [n], in rank order. 0, or
   * -1 when the exchange failed. */
  int (*allgather)(MlprtComm *c, const float *mine, float *all, size_t n);
  void (*close)(MlprtComm *c); /* ends the process's part in the run */
  double seconds;              /* wall time spent in allgather so far */
  long long calls;             /* allgathers so far */
};

typedef MlprtComm *(*MlprtCommOpenFn)(int *argc, char ***argv);

#endif
