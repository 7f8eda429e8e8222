#!/usr/bin/env python3
"""Shares of CPU samples per category in async-profiler 3.x HTML flame graphs.

Usage: tools/flame-shares.py FLAME.html [FLAME.html ...]

A category is a regular expression over frame names; a stack counts once for a category when any of its frames
matches (the first, outermost match: nested matches are not counted again). Categories are checked in the order
below; a stack may belong to several (the shares need not add up to 100 %). Prints one column per file.
"""
import bisect
import re
import sys

CATEGORIES = [
    ("JIT compiler", r"CompileBroker|C2Compiler|Compile::|C1_|PhaseIdealLoop"),
    ("GC", r"^G1|GCTaskThread|WorkerThread::run|G1ParScan|ConcurrentGCThread"),
    ("fsync / fdatasync (kernel)", r"do_fsync|__x64_sys_fsync|__x64_sys_fdatasync|fdatasync|FileDispatcherImpl\.force|FileChannelImpl\.force"),
    ("Ratis Raft log worker", r"org/apache/ratis/server/raftlog/segmented/SegmentedRaftLogWorker"),
    ("Ratis log appender (leader -> followers)", r"org/apache/ratis/grpc/server/GrpcLogAppender|org/apache/ratis/server/leader/LogAppender"),
    ("Ratis follower append (AppendEntries served)", r"RaftServerImpl\.appendEntries|GrpcServerProtocolService\$ServerRequestStreamObserver"),
    ("Ratis state machine updater", r"org/apache/ratis/server/impl/StateMachineUpdater"),
    ("Ratis other", r"org/apache/ratis/(?!thirdparty)"),
    ("gRPC / Netty (Ratis's shaded)", r"org/apache/ratis/thirdparty/io/(grpc|netty)"),
    ("protobuf (Ratis's shaded)", r"org/apache/ratis/thirdparty/com/google/protobuf"),
    ("idemlog snapshot lookup (Ratis asks the state machine)", r"io/idemlog/server/replication/PartitionStateMachine\$Storage\.getLatestSnapshot"),
    ("idemlog partition apply", r"io/idemlog/server/replication/PartitionStateMachine\.applyTransaction"),
    ("idemlog network + handlers", r"io/idemlog/server/(network|handler)/"),
    ("idemlog storage (segments, flusher)", r"io/idemlog/server/log/"),
    ("Kafka server", r"^kafka/|org/apache/kafka/(server|storage|raft|metadata)"),
    ("kernel: network send/recv", r"tcp_sendmsg|tcp_recvmsg|__sys_sendto|__sys_recvfrom|sock_write_iter|sock_read_iter"),
    ("kernel: futex / park", r"futex|Unsafe\.park|__schedule"),
]


def parse(path):
    text = open(path, encoding="utf-8").read()
    start = text.index("cpool = [") + len("cpool = [")
    end = text.index("];", start)
    raw = text[start:end]
    names = [eval(s) for s in re.findall(r"'(?:[^'\\]|\\.)*'", raw)]
    # decompress: each entry after the first is (shared prefix length char) + suffix
    pool = []
    for i, s in enumerate(names):
        if i == 0:
            pool.append(s)
        else:
            k = ord(s[0]) - 32 if s else 0
            pool.append(pool[-1][:k] + s[1:])
    body_start = text.index("unpack(cpool);", end) + len("unpack(cpool);")
    body_end = text.index("\n</script>", body_start) if "\n</script>" in text[body_start:] else len(text)
    frames = []  # (level, left, width, name)
    level0 = 0
    left0 = 0
    width0 = 0
    for m in re.finditer(r"^([fun])\(([^)]*)\)", text[body_start:body_end], re.M):
        kind = m.group(1)
        args = [int(a) for a in m.group(2).split(",") if a.strip() != ""]
        key = args[0]
        if kind == "f":
            level, left = args[1], args[2]
            width = args[3] if len(args) > 3 else None
        elif kind == "u":
            level, left = level0 + 1, 0
            width = args[1] if len(args) > 1 else None
        else:
            level, left = level0, width0
            width = args[1] if len(args) > 1 else None
        level0 = level
        left0 += left
        width0 = width if width is not None else width0
        frames.append((level, left0, width0, pool[key >> 3]))
    return frames


def shares(frames):
    by_level = {}
    for idx, (level, left, width, name) in enumerate(frames):
        by_level.setdefault(level, []).append((left, idx))
    for v in by_level.values():
        v.sort()
    lefts = {lv: [l for l, _ in v] for lv, v in by_level.items()}
    parent = [-1] * len(frames)
    for idx, (level, left, width, name) in enumerate(frames):
        if level == 0:
            continue
        lv = by_level.get(level - 1)
        if not lv:
            continue
        j = bisect.bisect_right(lefts[level - 1], left) - 1
        if j >= 0:
            parent[idx] = lv[j][1]
    total = sum(w for (lv, l, w, n) in frames if lv == 0)
    out = {}
    for label, rx in CATEGORIES:
        r = re.compile(rx)
        match = [bool(r.search(n)) for (_, _, _, n) in frames]
        s = 0
        for idx, m in enumerate(match):
            if not m:
                continue
            p = parent[idx]
            nested = False
            while p >= 0:
                if match[p]:
                    nested = True
                    break
                p = parent[p]
            if not nested:
                s += frames[idx][2]
        out[label] = s
    return total, out


def main():
    results = [(p, *shares(parse(p))) for p in sys.argv[1:]]
    print("| category | " + " | ".join(p.split("/")[-1] for p, _, _ in results) + " |")
    print("|---|" + "---|" * len(results))
    print("| samples | " + " | ".join(f"{t:,}" for _, t, _ in results) + " |")
    for label, _ in CATEGORIES:
        print(f"| {label} | " + " | ".join(f"{100.0 * o[label] / t:.1f} %" if t else "-" for _, t, o in results)
              + " |")


if __name__ == "__main__":
    main()
