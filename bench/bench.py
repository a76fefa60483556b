"""The benchmark: hcount against DuckDB and Polars on the same generated files.

Run it through bench/run.sh (which builds hcount in release and installs the peers).
For each size and thread count, each tool runs REPEAT times under /usr/bin/time -v, the
tools taking turns (hcount, DuckDB, Polars, hcount, ...); the peers' national and municipal
tables must equal hcount's before any time counts.
Prints a Markdown table and writes it to bench/results/latest.md.
"""
import argparse, os, re, shutil, statistics, subprocess, sys, datetime, platform, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HCOUNT = os.path.join(ROOT, "target", "release", "hcount")
KEY = os.path.join(ROOT, "fixtures", "demo-key.NOT-SECRET.txt")
YEAR = 2026
SIZES = {"100k": 100_000, "1M": 1_000_000, "10M": 10_000_000, "national": 0}
# A count at Denmark's real scale (issue #14's "national" target): 1,400 units, about 11,000
# rows, in every file style the format allows, bad rows included, as services send them.
# hcount only: the peers' scripts read the plain style.
NATIONAL = ["--persons", "6900", "--files", "1400", "--seed", "11", "--year", str(YEAR)]


def generate(label, rows):
    """The plain generated set for this size (cached under bench/data/)."""
    d = os.path.join(HERE, "data", label)
    if not os.path.isdir(d):
        tmp = d + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        if label == "national":
            shape = NATIONAL
        else:
            # 1.45 reports per person on average; 500 rows per file (1M rows = 2,000 files).
            shape = ["--persons", str(round(rows / 1.45)), "--files", str(max(1, rows // 500)),
                     "--seed", "5", "--year", str(YEAR), "--style", "plain"]
        subprocess.run([HCOUNT, "synth", "--out", tmp] + shape, check=True)
        os.rename(tmp, d)
    n = 0
    size = 0
    for f in os.listdir(d):
        p = os.path.join(d, f)
        size += os.path.getsize(p)
        with open(p, "rb") as fh:
            n += sum(1 for _ in fh) - 1
    return d, n, size


def rows_read(out):
    """The rows hcount read (its run.json): the national set's files have header lines and
    line breaks inside quoted fields, so counting lines would not give the rows."""
    import json
    return json.load(open(os.path.join(out, "run.json")))["rows"]["read"]


def timed(cmd, env=None):
    """(wall seconds, peak RSS in MiB) of one run, from /usr/bin/time -v."""
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", p.stderr)
    h, m, s = wall.groups()
    seconds = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    return seconds, rss


def commands(tool, src, out, threads, memory_limit):
    env = dict(os.environ)
    if tool == "hcount":
        cmd = [HCOUNT, "run", src, "--out", out, "--key-file", KEY, "--threads", str(threads),
               "--quiet", "--year", str(YEAR)]
        if memory_limit:
            cmd += ["--memory-limit", memory_limit]
        return cmd, env, os.path.join(out, "tables")
    env["POLARS_MAX_THREADS"] = str(threads)
    script = os.path.join(HERE, f"{tool}_count.py")
    return [sys.executable, script, src, out, str(threads), str(YEAR)], env, out


def tables(d):
    return {n: open(os.path.join(d, n)).read()
            for n in ("national_by_category.csv", "municipal_totals.csv")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100k,1M,10M",
                    help="any of 100k, 1M, 10M and national (Denmark's scale, hcount only)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tools", default="hcount,duckdb,polars")
    ap.add_argument("--memory-limit", default=None, help="passed to hcount (e.g. 1GiB)")
    args = ap.parse_args()
    work = os.path.join(HERE, "work")
    # Outputs are kept, also after the end: on ext4, creating files right after deleting many
    # (hcount writes a few thousand feedback files and charts per run) is several times
    # slower ("recently deleted" inodes are skipped), which would time the file system's
    # housekeeping rather than the tools; removed at the end, they slowed the next
    # benchmark started within minutes. The last benchmark's outputs are removed first, and
    # the benchmark waits for that to settle: ext4 without a journal skips a deleted inode
    # for 60 s, or 360 s while its inode table block is dirty, which creating new files
    # keeps it. A 60-second wait was too short: after a 10M run's outputs were removed the
    # national set took 1.7-2.8 s in its first five runs and 0.8 s in the next five, and
    # after a national run's 28,000 files 2.0-2.5 s in all ten; six minutes after the
    # removal, 0.68-1.03 s.
    if os.path.isdir(work):
        shutil.rmtree(work)
        print("waiting 6 minutes for the file system to settle after removing the last outputs",
              flush=True)
        time.sleep(370)
    results = []
    for label in args.sizes.split(","):
        src, n, size = generate(label, SIZES[label])
        for threads in [int(t) for t in args.threads.split(",")]:
            tools = args.tools.split(",")
            if label == "national":
                for tool in tools:
                    if tool != "hcount":
                        print(f"national: {tool} skipped (its script reads the plain style only)")
                tools = [t for t in tools if t == "hcount"]
            # Round-robin: each repeat runs every tool once, so a drift in the machine's
            # speed (20-50 % within an hour here) falls on all tools alike.
            runs = {tool: [] for tool in tools}
            reference = None
            for i in range(args.repeat):
                for tool in tools:
                    out = os.path.join(work, f"{tool}-{label}-{threads}-{i}")
                    cmd, env, tdir = commands(tool, src, out, threads, args.memory_limit)
                    runs[tool].append(timed(cmd, env))
                    if label == "national" and i == 0:
                        n = rows_read(out)
                    if i == 0:
                        got = tables(tdir)
                        if reference is None:
                            reference = got
                        elif got != reference:
                            sys.exit(f"{tool} ({label}, {threads} threads): tables differ from "
                                     f"{tools[0]}'s; no time counts")
            for tool in tools:
                wall = statistics.median(r[0] for r in runs[tool])
                rss = max(r[1] for r in runs[tool])
                results.append((label, n, size, threads, tool, wall, n / wall, rss, runs[tool]))
                print(f"{label} rows={n} threads={threads} {tool}: median {wall:.2f} s, "
                      f"{n / wall:,.0f} rows/s, peak RSS {rss:,.0f} MiB "
                      f"(runs: {', '.join(f'{r[0]:.2f}' for r in runs[tool])})", flush=True)
    versions = subprocess.run([HCOUNT, "--version"], capture_output=True, text=True).stdout.strip()
    import duckdb, polars
    lines = [
        f"Run {datetime.date.today()} on {platform.machine()}, {os.cpu_count()} cores; "
        f"{versions}, DuckDB {duckdb.__version__}, Polars {polars.__version__}, "
        f"Python {platform.python_version()}; median of {args.repeat} runs, the tools taking "
        f"turns"
        + (f"; hcount --memory-limit {args.memory_limit}" if args.memory_limit else "") + ".",
        "",
        "| rows | input | threads | tool | wall (median) | rows/s | peak RSS |",
        "|---:|---:|---:|---|---:|---:|---:|",
    ]
    for label, n, size, threads, tool, wall, rate, rss, _ in results:
        lines.append(f"| {n:,} | {size / 1e6:.0f} MB | {threads} | {tool} | {wall:.2f} s | "
                     f"{rate:,.0f} | {rss:,.0f} MiB |")
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    open(os.path.join(HERE, "results", "latest.md"), "w").write(text)
    print()
    print(text)
    print(f"(the runs' outputs stay in {work} until the next benchmark)")


if __name__ == "__main__":
    main()
