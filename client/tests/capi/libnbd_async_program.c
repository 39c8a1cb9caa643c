/* A program written only against libnbd's documented asynchronous API:
 * many nbd_aio_pwrite and nbd_aio_pread in flight with completion
 * callbacks, driven by nbd_poll. It builds unchanged against libnbd's own
 * header and against nbdref's compat/libnbd.h; the tests run both builds
 * against the same server and require the same output.
 *
 * Usage: libnbd_async_program unix SOCKET [EXPORT]
 *        libnbd_async_program tcp HOST PORT [EXPORT]
 *        libnbd_async_program command ARGV...
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnbd.h>

#define BLOCK 4096
#define COUNT 512         /* commands of each kind */
#define WINDOW 64         /* in flight at once */

static struct nbd_handle *nbd;
static char wbuf[COUNT][BLOCK], rbuf[COUNT][BLOCK];
static int completed, failed;

static void fail (const char *what)
{
  fprintf (stderr, "%s: %s (errno %d)\n", what, nbd_get_error (), nbd_get_errno ());
  exit (EXIT_FAILURE);
}

/* Completion callback: counts, and retires the command (returns 1). */
static int done (void *user_data, int *error)
{
  (void) user_data;
  completed++;
  if (*error) failed++;
  return 1;
}

static void wait_until (int target)
{
  while (completed < target)
    if (nbd_poll (nbd, -1) == -1) fail ("nbd_poll");
}

int main (int argc, char *argv[])
{
  if (argc < 3) {
    fprintf (stderr, "usage: %s unix|tcp|command ...\n", argv[0]);
    return EXIT_FAILURE;
  }
  nbd = nbd_create ();
  if (nbd == NULL) fail ("nbd_create");
  int r;
  if (strcmp (argv[1], "unix") == 0) {
    if (argc > 3 && nbd_set_export_name (nbd, argv[3]) == -1) fail ("nbd_set_export_name");
    r = nbd_connect_unix (nbd, argv[2]);
  } else if (strcmp (argv[1], "tcp") == 0) {
    if (argc > 4 && nbd_set_export_name (nbd, argv[4]) == -1) fail ("nbd_set_export_name");
    r = nbd_connect_tcp (nbd, argv[2], argv[3]);
  } else {
    r = nbd_connect_command (nbd, &argv[2]);
  }
  if (r == -1) fail ("connect");
  if (nbd_get_size (nbd) < (int64_t) COUNT * BLOCK) {
    fprintf (stderr, "export too small\n");
    return EXIT_FAILURE;
  }

  /* Writes, WINDOW in flight at a time, completions retiring them. */
  for (int i = 0; i < COUNT; ++i) {
    for (int j = 0; j < BLOCK; ++j) wbuf[i][j] = (char) (i * 13 + j * 7);
    while (nbd_aio_in_flight (nbd) >= WINDOW)
      if (nbd_poll (nbd, -1) == -1) fail ("nbd_poll");
    nbd_completion_callback cb = { .callback = done };
    if (nbd_aio_pwrite (nbd, wbuf[i], BLOCK, (uint64_t) i * BLOCK, cb, 0) == -1)
      fail ("nbd_aio_pwrite");
  }
  wait_until (COUNT);
  printf ("writes completed %d failed %d\n", completed, failed);

  if (nbd_can_flush (nbd) == 1) {
    int64_t cookie = nbd_aio_flush (nbd, NBD_NULL_COMPLETION, 0);
    if (cookie == -1) fail ("nbd_aio_flush");
    /* No callback: retire it by polling nbd_aio_command_completed. */
    while ((r = nbd_aio_command_completed (nbd, (uint64_t) cookie)) == 0)
      if (nbd_poll (nbd, -1) == -1) fail ("nbd_poll");
    if (r == -1) fail ("nbd_aio_command_completed");
    printf ("flush retired\n");
  }

  /* Reads, all at once, in reverse order. */
  completed = failed = 0;
  for (int i = COUNT - 1; i >= 0; --i) {
    nbd_completion_callback cb = { .callback = done };
    if (nbd_aio_pread (nbd, rbuf[i], BLOCK, (uint64_t) i * BLOCK, cb, 0) == -1)
      fail ("nbd_aio_pread");
  }
  wait_until (COUNT);
  printf ("reads completed %d failed %d\n", completed, failed);
  int mismatches = 0;
  for (int i = 0; i < COUNT; ++i)
    if (memcmp (wbuf[i], rbuf[i], BLOCK) != 0) mismatches++;
  printf ("mismatched blocks %d\n", mismatches);
  printf ("in flight %d\n", nbd_aio_in_flight (nbd));
  if (nbd_aio_peek_command_completed (nbd) != -1) {
    fprintf (stderr, "a command is still waiting to be retired\n");
    return EXIT_FAILURE;
  }

  if (nbd_aio_disconnect (nbd, 0) == -1) fail ("nbd_aio_disconnect");
  while (!nbd_aio_is_closed (nbd) && !nbd_aio_is_dead (nbd))
    if (nbd_poll (nbd, -1) == -1) fail ("nbd_poll");
  printf ("closed %d\n", nbd_aio_is_closed (nbd));
  nbd_close (nbd);
  return mismatches == 0 && failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
