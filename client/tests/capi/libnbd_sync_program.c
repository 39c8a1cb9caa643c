/* A program written only against libnbd's documented synchronous API.
 * It builds unchanged against libnbd's own header and against nbdref's
 * compat/libnbd.h; the tests run both builds against the same server and
 * require the same output.
 *
 * Usage: libnbd_sync_program unix SOCKET [EXPORT]
 *        libnbd_sync_program tcp HOST PORT [EXPORT]
 *        libnbd_sync_program command ARGV...
 *
 * It prints what it learns and does, one fact per line, and exits 0 when
 * every step behaved as an NBD client should observe it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnbd.h>

static struct nbd_handle* nbd;

static void fail(const char* what) {
  fprintf(stderr, "%s: %s (errno %d)\n", what, nbd_get_error(), nbd_get_errno());
  exit(EXIT_FAILURE);
}

static void fill(char* buf, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; ++i) buf[i] = (char)(seed * 31 + i * 7 + (i >> 9));
}

static int extent_count;
static int count_extents(void* user_data, const char* metacontext, uint64_t offset,
                         uint32_t* entries, size_t nr_entries, int* error) {
  (void)user_data;
  (void)error;
  uint64_t covered = 0;
  for (size_t i = 0; i < nr_entries; i += 2) {
    printf("extent %s offset %" PRIu64 " length %" PRIu32 " flags %" PRIu32 "\n", metacontext,
           offset + covered, entries[i], entries[i + 1]);
    covered += entries[i];
    extent_count++;
  }
  return 0;
}

int main(int argc, char* argv[]) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s unix|tcp|command ...\n", argv[0]);
    return EXIT_FAILURE;
  }
  nbd = nbd_create();
  if (nbd == NULL) fail("nbd_create");
  if (nbd_add_meta_context(nbd, LIBNBD_CONTEXT_BASE_ALLOCATION) == -1) fail("nbd_add_meta_context");

  int r;
  if (strcmp(argv[1], "unix") == 0) {
    if (argc > 3 && nbd_set_export_name(nbd, argv[3]) == -1) fail("nbd_set_export_name");
    r = nbd_connect_unix(nbd, argv[2]);
  } else if (strcmp(argv[1], "tcp") == 0) {
    if (argc > 4 && nbd_set_export_name(nbd, argv[4]) == -1) fail("nbd_set_export_name");
    r = nbd_connect_tcp(nbd, argv[2], argv[3]);
  } else {
    r = nbd_connect_command(nbd, &argv[2]);
  }
  if (r == -1) fail("connect");

  int64_t size = nbd_get_size(nbd);
  if (size == -1) fail("nbd_get_size");
  printf("size %" PRId64 "\n", size);
  int ro = nbd_is_read_only(nbd);
  printf("read_only %d\n", ro);

  /* Write patterns at many offsets and sizes, read each back. */
  static char wbuf[1 << 20], rbuf[1 << 20];
  const uint64_t offsets[] = {0, 512, 4096, 65536, 1 << 20, 3 << 20};
  const size_t sizes[] = {512, 4096, 65536, 1 << 20};
  unsigned seed = 1;
  for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; ++i) {
    for (size_t j = 0; j < sizeof sizes / sizeof sizes[0]; ++j, ++seed) {
      uint64_t off = offsets[i] + j * (2 << 20) + (8 << 20);
      if (off + sizes[j] > (uint64_t)size) continue;
      fill(wbuf, sizes[j], seed);
      if (ro) break;
      if (nbd_pwrite(nbd, wbuf, sizes[j], off, 0) == -1) fail("nbd_pwrite");
      if (nbd_pread(nbd, rbuf, sizes[j], off, 0) == -1) fail("nbd_pread");
      if (memcmp(wbuf, rbuf, sizes[j]) != 0) {
        fprintf(stderr, "data read back at %" PRIu64 " differs\n", off);
        return EXIT_FAILURE;
      }
    }
  }
  printf("patterns verified %u\n", ro ? 0 : seed - 1);

  if (nbd_can_flush(nbd) == 1 && nbd_flush(nbd, 0) == -1) fail("nbd_flush");
  printf("can_flush %d\n", nbd_can_flush(nbd));

  if (!ro && nbd_can_zero(nbd) == 1) {
    fill(wbuf, 65536, 99);
    if (nbd_pwrite(nbd, wbuf, 65536, 0, 0) == -1) fail("nbd_pwrite");
    if (nbd_zero(nbd, 65536, 0, 0) == -1) fail("nbd_zero");
    if (nbd_pread(nbd, rbuf, 65536, 0, 0) == -1) fail("nbd_pread");
    for (size_t i = 0; i < 65536; ++i)
      if (rbuf[i] != 0) {
        fprintf(stderr, "zeroed byte %zu reads %d\n", i, rbuf[i]);
        return 1;
      }
    printf("zero verified\n");
  }
  if (!ro && nbd_can_trim(nbd) == 1) {
    if (nbd_trim(nbd, 65536, 65536, 0) == -1) fail("nbd_trim");
    printf("trim done\n");
  }
  if (nbd_can_meta_context(nbd, LIBNBD_CONTEXT_BASE_ALLOCATION) == 1) {
    nbd_extent_callback cb = {.callback = count_extents};
    if (nbd_block_status(nbd, 1 << 20, 0, cb, 0) == -1) fail("nbd_block_status");
    printf("block status extents %d\n", extent_count > 0);
  }

  /* A read past the end is refused. */
  if (nbd_pread(nbd, rbuf, 512, (uint64_t)size, 0) != -1) {
    fprintf(stderr, "read past the end succeeded\n");
    return EXIT_FAILURE;
  }
  printf("read past end errno %s\n", nbd_get_errno() == EINVAL ? "EINVAL" : "other");
  if (ro) {
    if (nbd_pwrite(nbd, wbuf, 512, 0, 0) != -1) {
      fprintf(stderr, "write to a read-only export succeeded\n");
      return EXIT_FAILURE;
    }
    printf("read-only write errno %s\n", nbd_get_errno() == EPERM ? "EPERM" : "other");
  }

  if (nbd_shutdown(nbd, 0) == -1) fail("nbd_shutdown");
  nbd_close(nbd);
  printf("done\n");
  return EXIT_SUCCESS;
}
