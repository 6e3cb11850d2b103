/* mpi.c — the ranks of a data-parallel run over MPI (mlp/comm.h). Built
 * into libmlpmpi.a by mpicc, apart from libmlprt.a, so that only programs
 * built with environment.distributed = mpi link Open MPI. Consumes the
 * command line mpirun started the process with; produces this process's
 * rank and the exchange of gradients between ranks. */
#include <mpi.h>

#include "mlp/run.h"

static int alltoall(MlprtComm *c, const float *send, const int *scount, const int *sdispl, float *recv,
                    const int *rcount, const int *rdispl) {
  double t0 = MPI_Wtime();
  int rc = MPI_Alltoallv(send, scount, sdispl, MPI_FLOAT, recv, rcount, rdispl, MPI_FLOAT, MPI_COMM_WORLD);
  c->seconds += MPI_Wtime() - t0;
  c->calls++;
  return rc == MPI_SUCCESS ? 0 : -1;
}

static int allgather(MlprtComm *c, float *all, const int *count, const int *displ) {
  double t0 = MPI_Wtime();
  int rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all, count, displ, MPI_FLOAT, MPI_COMM_WORLD);
  c->seconds += MPI_Wtime() - t0;
  return rc == MPI_SUCCESS ? 0 : -1;
}

static int bcast(MlprtComm *c, void *buf, size_t n) {
  (void)c;
  for (size_t at = 0; at < n; at += INT32_MAX) {
    size_t len = n - at < INT32_MAX ? n - at : INT32_MAX;
    if (MPI_Bcast((char *)buf + at, (int)len, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
  }
  return 0;
}

static void finish(MlprtComm *c) {
  (void)c;
  MPI_Finalize();
}

MlprtComm *mlprt_mpi_open(int *argc, char ***argv) {
  static MlprtComm comm = {.alltoall = alltoall, .allgather = allgather, .bcast = bcast, .close = finish};
  if (MPI_Init(argc, argv) != MPI_SUCCESS) return NULL;
  MPI_Comm_rank(MPI_COMM_WORLD, &comm.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &comm.size);
  return &comm;
}
