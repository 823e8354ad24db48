/*
 * armp-wal-tidy <database> <suffix>...: removes the -wal/-shm files a read-only reader created
 * beside a WAL-mode database (a read-only SQLite connection creates them and cannot delete them on
 * close, as only a connection that may checkpoint does). sqlite.ts runs it after its last source
 * connection closed, naming only the suffixes ("-wal", "-shm") that did not exist before the first
 * one opened, and never for files that existed: those belong to the application.
 *
 * It removes them only when no other connection can be using them, by SQLite's own rule for the
 * last connection (sqlite3WalClose, unixShmUnmap): it takes SQLite's EXCLUSIVE lock on the
 * database (a write lock on PENDING_BYTE and the SHARED range; every WAL-mode connection holds a
 * SHARED lock for as long as it is open, and a new one needs SHARED before it opens the -shm), and
 * the write lock on the -shm's dead-man-switch byte (every connection with the -shm mapped holds
 * a read lock on it). A -wal that is not empty holds committed transactions and is never removed.
 *
 * It runs in a process of its own because POSIX record locks are per process and closing any
 * descriptor of a file drops all of the process's locks on it: doing this inside the engine would
 * release the locks of any other SQLite connection that process has to the same file. The database
 * is opened read-write only because a write lock needs a writable descriptor; nothing is written.
 *
 * Exit status: 0 removed, 2 in use (kept), 3 cannot lock (kept), 4 -wal not empty (kept), 64 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PENDING_BYTE 0x40000000
#define SHARED_FIRST (PENDING_BYTE + 2)
#define SHARED_SIZE 510
#define SHM_DMS 128

static int write_lock(int fd, off_t start, off_t len) {
  struct flock l;
  memset(&l, 0, sizeof l);
  l.l_type = F_WRLCK;
  l.l_whence = SEEK_SET;
  l.l_start = start;
  l.l_len = len;
  return fcntl(fd, F_SETLK, &l);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: armp-wal-tidy <database> <-wal|-shm>...\n");
    return 64;
  }
  const char *db = argv[1];
  size_t n = strlen(db);
  char *wal = malloc(n + 5), *shm = malloc(n + 5);
  if (!wal || !shm) return 3;
  snprintf(wal, n + 5, "%s-wal", db);
  snprintf(shm, n + 5, "%s-shm", db);
  int remove_wal = 0, remove_shm = 0;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "-wal") == 0) remove_wal = 1;
    else if (strcmp(argv[i], "-shm") == 0) remove_shm = 1;
    else return 64;
  }
  int fd = open(db, O_RDWR);
  if (fd < 0) return 3;
  if (write_lock(fd, PENDING_BYTE, 1) != 0 || write_lock(fd, SHARED_FIRST, SHARED_SIZE) != 0) return errno == EACCES || errno == EAGAIN ? 2 : 3;
  int sfd = open(shm, O_RDWR);
  if (sfd >= 0 && write_lock(sfd, SHM_DMS, 1) != 0) return errno == EACCES || errno == EAGAIN ? 2 : 3;
  struct stat st;
  if (remove_wal && stat(wal, &st) == 0 && st.st_size != 0) return 4;
  if (remove_wal) unlink(wal);
  if (remove_shm) unlink(shm);
  /* Exiting closes both descriptors, which releases the locks after the files are gone. */
  return 0;
}
