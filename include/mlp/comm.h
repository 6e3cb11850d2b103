/* comm.h — the processes of a data-parallel training run, and the one
 * collective it needs.
 *
 * A program built with environment.distributed = mpi runs as `size` copies
 * (ranks) under mpirun. Every rank loads and cleans all the data and runs
 * every step; only a batch's gradient is split: the batch is cut into
 * environment.shards slices at fixed row boundaries, each rank computes the
 * gradients of its consecutive share of the slices, and the ranks combine
 * their partial sums (see mlprt_shard_step in train/shard.c): rank j adds
 * every rank's partial of the j-th part of the parameters in a fixed
 * order (all-to-all), steps the optimizer on that part alone, and all
 * gather the stepped parts of the parameters (a reduce-scatter and an
 * allgather, each rank moving about 2n floats of n parameters whatever
 * the rank count). The update is elementwise, so the weights depend on
 * the slice count, never on the rank count.
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
  /* MPI_Alltoallv of floats: send[sdispl[j] ..] (scount[j]) goes to rank
   * j, and recv[rdispl[r] ..] (rcount[r]) comes from rank r. 0, or -1. */
  int (*alltoall)(MlprtComm *c, const float *send, const int *scount, const int *sdispl, float *recv,
                  const int *rcount, const int *rdispl);
  /* MPI_Allgatherv of floats in place: every rank's all[displ[rank] ..]
   * (count[rank]) into every other rank's all. 0, or -1. */
  int (*allgather)(MlprtComm *c, float *all, const int *count, const int *displ);
  /* MPI_Bcast of n bytes from rank 0's buf into every rank's. 0, or -1. */
  int (*bcast)(MlprtComm *c, void *buf, size_t n);
  void (*close)(MlprtComm *c); /* ends the process's part in the run */
  double seconds;              /* wall time spent exchanging so far */
  long long calls;             /* all-to-alls so far: one per step */
};

typedef MlprtComm *(*MlprtCommOpenFn)(int *argc, char ***argv);

#endif
