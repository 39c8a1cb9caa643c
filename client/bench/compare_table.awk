#!/usr/bin/awk -f
# The tables of compare.sh, from its results file (one line per run:
# "workload=NAME library=... key=value ...", copies also "tool=...
# proc_wall_s=... proc_cpu_s=... copy_bytes=..."): the median of every
# figure per workload and library, the ratios nbdref/libnbd, the copy
# against nbdcopy, and the targets of the performance issue.
#   -v progress=NAME      only a one-line summary of workload NAME
#   -v markdown_file=F    also write the tables as Markdown to F
#   -v pairs=N -v seconds=S   for the headings
# Portable awk (Debian's default is mawk): no gawk extensions.

function median(list,    n, v, i, j, x) {
  n = split(list, v, " ")
  if (n == 0) return ""
  for (i = 2; i <= n; i++) {
    x = v[i] + 0
    for (j = i - 1; j >= 1 && v[j] + 0 > x; j--) v[j + 1] = v[j]
    v[j + 1] = x
  }
  return (n % 2) ? v[(n + 1) / 2] + 0 : (v[n / 2] + v[n / 2 + 1]) / 2
}

# The median of KEY over the runs of workload W by TOOL ("" when none).
function med(w, tool, key) {
  return ((w, tool, key) in values) ? median(values[w, tool, key]) : ""
}

function fmt(x, decimals) {
  if (x == "") return "-"
  return sprintf("%." decimals "f", x)
}

# a / b as "x1.23", or "-".
function ratio(a, b) {
  if (a == "" || b == "" || b + 0 == 0) return "-"
  return sprintf("x%.2f", a / b)
}

function verdict(ok) { return ok ? "met" : "NOT met" }

{
  delete f
  for (i = 1; i <= NF; i++) {
    eq = index($i, "=")
    if (eq > 0) f[substr($i, 1, eq - 1)] = substr($i, eq + 1)
  }
  w = f["workload"]
  tool = ("tool" in f) ? f["tool"] : f["library"]
  if (!(w in seen)) {
    seen[w] = 1
    order[++nw] = w
  }
  if ("version" in f) version[tool] = f["version"]
  if ("proc_wall_s" in f && f["proc_wall_s"] + 0 > 0) {
    f["proc_mib_per_s"] = f["copy_bytes"] / 1048576 / f["proc_wall_s"]
    f["proc_cpu_s_per_gib"] = f["proc_cpu_s"] / (f["copy_bytes"] / 1073741824)
  }
  nkeys = split("mib_per_s kops_per_s cpu_us_per_op cpu_s_per_gib lat_p50_us lat_mean_us " \
                "proc_mib_per_s proc_cpu_s_per_gib", keys, " ")
  for (k = 1; k <= nkeys; k++) {
    key = keys[k]
    if (key in f) values[w, tool, key] = values[w, tool, key] " " f[key]
  }
  runs[w, tool]++
}

function is_copy(w) { return w ~ /^copy\// }

function progress_line(w) {
  if (is_copy(w)) {
    printf "MiB/s (whole process): nbdcopy %s  libnbd %s  nbdref %s\n",
      fmt(med(w, "nbdcopy", "proc_mib_per_s"), 1), fmt(med(w, "libnbd", "proc_mib_per_s"), 1),
      fmt(med(w, "nbdref", "proc_mib_per_s"), 1)
    return
  }
  printf "kop/s libnbd %8s nbdref %8s %6s   CPU us/op libnbd %6s nbdref %6s %6s\n",
    fmt(med(w, "libnbd", "kops_per_s"), 1), fmt(med(w, "nbdref", "kops_per_s"), 1),
    ratio(med(w, "nbdref", "kops_per_s"), med(w, "libnbd", "kops_per_s")),
    fmt(med(w, "libnbd", "cpu_us_per_op"), 2), fmt(med(w, "nbdref", "cpu_us_per_op"), 2),
    ratio(med(w, "nbdref", "cpu_us_per_op"), med(w, "libnbd", "cpu_us_per_op"))
}

# One row of the main table, as an array of cells.
function main_row(w, cell,    l, r) {
  cell[1] = w
  cell[2] = fmt(med(w, "libnbd", "mib_per_s"), 1)
  cell[3] = fmt(med(w, "nbdref", "mib_per_s"), 1)
  cell[4] = fmt(med(w, "libnbd", "kops_per_s"), 1)
  cell[5] = fmt(med(w, "nbdref", "kops_per_s"), 1)
  cell[6] = ratio(med(w, "nbdref", "kops_per_s"), med(w, "libnbd", "kops_per_s"))
  cell[7] = fmt(med(w, "libnbd", "cpu_us_per_op"), 2)
  cell[8] = fmt(med(w, "nbdref", "cpu_us_per_op"), 2)
  cell[9] = ratio(med(w, "nbdref", "cpu_us_per_op"), med(w, "libnbd", "cpu_us_per_op"))
  cell[10] = fmt(med(w, "libnbd", "cpu_s_per_gib"), 2)
  cell[11] = fmt(med(w, "nbdref", "cpu_s_per_gib"), 2)
  l = med(w, "libnbd", "lat_p50_us")
  r = med(w, "nbdref", "lat_p50_us")
  cell[12] = fmt(l, 1)
  cell[13] = fmt(r, 1)
  cell[14] = ratio(r, l)
  return 14
}

function print_main_tables(    i, w, n, c, cell, line) {
  printf "\n%-30s %19s %17s %6s %17s %6s %15s %17s %6s\n", "", "------ MiB/s ------",
    "----- kop/s -----", "thru", "--- CPU us/op ---", "CPU", "-- CPU s/GiB --",
    "-- p50 lat. us --", "lat"
  printf "%-30s %9s %9s %8s %8s %6s %8s %8s %6s %7s %7s %8s %8s %6s\n",
    "workload", "libnbd", "nbdref", "libnbd", "nbdref", "ratio", "libnbd", "nbdref", "ratio",
    "libnbd", "nbdref", "libnbd", "nbdref", "ratio"
  for (i = 1; i <= nw; i++) {
    w = order[i]
    if (is_copy(w)) continue
    n = main_row(w, cell)
    printf "%-30s %9s %9s %8s %8s %6s %8s %8s %6s %7s %7s %8s %8s %6s\n",
      cell[1], cell[2], cell[3], cell[4], cell[5], cell[6], cell[7], cell[8], cell[9], cell[10],
      cell[11], cell[12], cell[13], cell[14]
    if (markdown_file != "") {
      line = "|"
      for (c = 1; c <= n; c++) line = line " " (c == 1 ? "`" cell[c] "`" : cell[c]) " |"
      md_rows = md_rows line "\n"
    }
  }
}

function print_copy_tables(    i, w, t, tools, tool, name) {
  split("nbdcopy libnbd nbdref", tools, " ")
  for (i = 1; i <= nw; i++) {
    w = order[i]
    if (!is_copy(w)) continue
    printf "\n%s: the whole export, timed as a process (start to exit)\n", w
    printf "  %-14s %10s %11s %18s\n", "tool", "MiB/s", "CPU s/GiB", "MiB/s (in-run)"
    for (t = 1; t <= 3; t++) {
      tool = tools[t]
      name = tool == "nbdcopy" ? "nbdcopy" : tool "-bench"
      printf "  %-14s %10s %11s %18s\n", name, fmt(med(w, tool, "proc_mib_per_s"), 1),
        fmt(med(w, tool, "proc_cpu_s_per_gib"), 3), fmt(med(w, tool, "mib_per_s"), 1)
      if (markdown_file != "") {
        md_copy = md_copy sprintf("| `%s` | %s | %s | %s | %s |\n", w, name,
          fmt(med(w, tool, "proc_mib_per_s"), 1), fmt(med(w, tool, "proc_cpu_s_per_gib"), 3),
          fmt(med(w, tool, "mib_per_s"), 1))
      }
    }
    printf "  nbdref-bench / nbdcopy: MiB/s %s, CPU %s;  nbdref-bench / libnbd-bench: MiB/s %s, CPU %s\n",
      ratio(med(w, "nbdref", "proc_mib_per_s"), med(w, "nbdcopy", "proc_mib_per_s")),
      ratio(med(w, "nbdref", "proc_cpu_s_per_gib"), med(w, "nbdcopy", "proc_cpu_s_per_gib")),
      ratio(med(w, "nbdref", "proc_mib_per_s"), med(w, "libnbd", "proc_mib_per_s")),
      ratio(med(w, "nbdref", "proc_cpu_s_per_gib"), med(w, "libnbd", "proc_cpu_s_per_gib"))
  }
}

function add_target(text) {
  targets = targets "  " text "\n"
  md_targets = md_targets "- " text "\n"
}

function print_targets(    w, a, b, c, d, i) {
  w = "memory/rand-read-4k-q64-c1"
  if ((w, "libnbd", "kops_per_s") in values && (w, "nbdref", "kops_per_s") in values) {
    a = med(w, "nbdref", "kops_per_s") / med(w, "libnbd", "kops_per_s")
    b = med(w, "nbdref", "cpu_us_per_op") / med(w, "libnbd", "cpu_us_per_op")
    add_target(sprintf("4 KiB random reads, 64 in flight, 1 connection: requests/s x%.2f (>= 1.5: %s), client CPU per request x%.2f (<= 0.6: %s)",
      a, verdict(a >= 1.5), b, verdict(b <= 0.6)))
  }
  w = "memory/seq-read-256k-q16-c1"
  if ((w, "libnbd", "mib_per_s") in values && (w, "nbdref", "mib_per_s") in values) {
    a = med(w, "nbdref", "mib_per_s") / med(w, "libnbd", "mib_per_s")
    add_target(sprintf("256 KiB sequential reads, 16 in flight: MiB/s x%.2f (>= 1.1: %s)", a,
      verdict(a >= 1.1)))
  }
  w = "memory/sync-rand-read-4k"
  if ((w, "libnbd", "lat_p50_us") in values && (w, "nbdref", "lat_p50_us") in values) {
    a = med(w, "nbdref", "lat_p50_us") / med(w, "libnbd", "lat_p50_us")
    b = med(w, "nbdref", "lat_mean_us") / med(w, "libnbd", "lat_mean_us")
    add_target(sprintf("synchronous 4 KiB reads: median latency x%.2f, mean x%.2f (<= 1: %s)", a, b,
      verdict(a <= 1 && b <= 1)))
  }
  for (i = 1; i <= nw; i++) {
    w = order[i]
    if (!is_copy(w) || !((w, "nbdcopy", "proc_mib_per_s") in values)) continue
    if (!((w, "nbdref", "proc_mib_per_s") in values)) continue
    c = med(w, "nbdref", "proc_mib_per_s") / med(w, "nbdcopy", "proc_mib_per_s")
    add_target(sprintf("whole-export copy (%s): MiB/s x%.2f of nbdcopy's (>= 1: %s)", w, c,
      verdict(c >= 1)))
  }
  if (targets != "") printf "\ntargets (medians, nbdref / libnbd):\n%s", targets
}

function write_markdown(    heading) {
  heading = sprintf("libnbd %s and nbdref %s, nbdkit on a Unix socket, medians of %s runs of %s s each, alternating", \
    version["libnbd"], version["nbdref"], pairs, seconds)
  printf "%s\n\n", heading > markdown_file
  if (md_rows != "") {
    print "| workload | MiB/s libnbd | MiB/s nbdref | kop/s libnbd | kop/s nbdref | throughput nbdref/libnbd | CPU µs/op libnbd | CPU µs/op nbdref | CPU nbdref/libnbd | CPU s/GiB libnbd | CPU s/GiB nbdref | p50 latency µs libnbd | p50 latency µs nbdref | latency nbdref/libnbd |" > markdown_file
    print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" > markdown_file
    printf "%s\n", md_rows > markdown_file
  }
  if (md_copy != "") {
    print "| copy | tool | MiB/s (whole process) | CPU s/GiB (whole process) | MiB/s (in-run) |" > markdown_file
    print "|---|---|---:|---:|---:|" > markdown_file
    printf "%s\n", md_copy > markdown_file
  }
  if (md_targets != "") printf "Targets:\n\n%s", md_targets > markdown_file
  close(markdown_file)
}

END {
  if (progress != "") {
    progress_line(progress)
    exit
  }
  printf "\nlibnbd %s vs nbdref %s: medians of %s runs each of %s s, alternating\n",
    version["libnbd"], version["nbdref"], pairs, seconds
  print_main_tables()
  print_copy_tables()
  print_targets()
  if (markdown_file != "") write_markdown()
}
