package io.idemlog.bench.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * Runs comparisons side by side: for each round, every comparison, its two sides back to back, A then B in odd
 * rounds and B then A in even ones (so a drift in the machine's load hits both sides alike). A comparison with no
 * B side is a single series (the e2e mode). Prints every run as it ends, then per comparison the median and range
 * of every figure per side and of the ratio A/B taken round by round.
 */
final class PairRunner {
    /** One side of a comparison: what runs where. */
    record Side(String label, Target target, String topic, Workload workload) {
    }

    /** Two sides compared; the ratio is A/B. {@code b} may be null. */
    record Comparison(String name, Side a, Side b) {
    }

    /** A figure of a run, how to print it, and whether higher is better. */
    record Figure(String name, String format, ToDoubleFunction<RunResult> value) {
    }

    static final List<Figure> FIGURES = List.of(
        new Figure("records/s", "%,.0f", RunResult::recordsPerSecond),
        new Figure("MB/s", "%.2f", RunResult::megabytesPerSecond),
        new Figure("latency p50 ms", "%.2f", RunResult::p50Ms),
        new Figure("latency p99 ms", "%.2f", RunResult::p99Ms),
        new Figure("latency p99.9 ms", "%.2f", RunResult::p999Ms),
        new Figure("server CPU s/Mrec", "%.2f", RunResult::serverCpuPerMillion),
        new Figure("client CPU s/Mrec", "%.2f", RunResult::clientCpuPerMillion),
        new Figure("server fsyncs/Mrec", "%,.0f", RunResult::fsyncsPerMillion));

    private final String bench;
    private final Driver driver;
    private final Out out;
    /** Records written to each topic by every run so far (warm-ups and round 0 included), and its server. */
    private final java.util.Map<String, long[]> sentPerTopic = new java.util.LinkedHashMap<>();
    private final java.util.Map<String, Target> targetOfTopic = new java.util.LinkedHashMap<>();

    PairRunner(String bench, Driver driver, Out out) {
        this.bench = bench;
        this.driver = driver;
        this.out = out;
    }

    /**
     * Runs every comparison {@code rounds} times, after a discarded round 0 if {@code warmupRound} (JIT of the
     * long-lived servers and of the harness JVM's clients); returns every run of rounds 1 and later.
     */
    List<RunResult> run(List<Comparison> comparisons, int rounds, boolean warmupRound, Path csv) {
        List<RunResult> all = new ArrayList<>();
        writeCsvHeader(csv);
        for (int r = warmupRound ? 0 : 1; r <= rounds; r++) {
            if (r == 0) {
                out.line("--- round 0: warm-up round, every comparison once, figures printed and discarded (load %s)",
                    Proc.loadAverages());
            } else {
                out.line("--- round %d of %d (load %s)", r, rounds, Proc.loadAverages());
            }
            for (Comparison c : comparisons) {
                List<Side> order = new ArrayList<>();
                order.add(c.a());
                if (c.b() != null) {
                    if (r % 2 == 1) {
                        order.add(c.b());
                    } else {
                        order.add(0, c.b());
                    }
                }
                for (Side s : order) {
                    RunResult result = driver.run(bench, r, c.name(), s == c.a() ? "A" : "B", s.target(), s.topic(),
                        s.workload());
                    sentPerTopic.computeIfAbsent(s.topic(), t -> new long[1])[0] += s.workload().warmup()
                        + s.workload().records();
                    targetOfTopic.put(s.topic(), s.target());
                    if (r == 0) {
                        out.line("WARMUP " + result.line().substring(4) + "   [" + c.name() + " " + s.label()
                            + ", discarded]");
                        continue;
                    }
                    out.line(result.line() + "   [" + c.name() + " " + s.label() + "]");
                    appendCsv(csv, result);
                    all.add(result);
                }
            }
        }
        return all;
    }

    /**
     * The whole-run check, independent of the per-run start reads: each topic's log end (its records from offset 0)
     * against every record sent to it by every run (warm-ups and round 0 included). Prints one line per topic that
     * differs and a total; returns whether every topic holds exactly what was sent.
     */
    boolean checkTopicTotals() {
        boolean ok = true;
        long sent = 0;
        long logged = 0;
        for (java.util.Map.Entry<String, long[]> e : sentPerTopic.entrySet()) {
            Target t = targetOfTopic.get(e.getKey());
            long expected = e.getValue()[0];
            long end = Driver.settledLogEnd(t, e.getKey(), expected);
            sent += expected;
            logged += end;
            if (end != expected) {
                ok = false;
                out.line("!!! topic %s on %s: %,d records in the log, %,d sent (%+,d)", e.getKey(), t.name(), end,
                    expected, end - expected);
            }
        }
        out.line("topic totals: %d topics, %,d records sent over the whole run (warm-ups included), %,d in the logs: %s",
            sentPerTopic.size(), sent, logged, ok ? "every topic holds exactly the records sent"
                : "!!! NOT every topic holds exactly the records sent");
        return ok;
    }

    /** Prints the summary tables and writes the summary CSV. */
    void summarize(List<Comparison> comparisons, List<RunResult> runs, Path summaryCsv) {
        List<String> rows = new ArrayList<>();
        rows.add("comparison,figure,a,a_median,a_min,a_max,b,b_median,b_min,b_max,ratio_median,ratio_min,ratio_max,"
            + "rounds");
        for (Comparison c : comparisons) {
            List<RunResult> a = runs.stream().filter(x -> x.comparison().equals(c.name()) && x.side().equals("A"))
                .toList();
            List<RunResult> b = runs.stream().filter(x -> x.comparison().equals(c.name()) && x.side().equals("B"))
                .toList();
            out.line("");
            out.line("== %s: %s", c.name(), c.a().workload().describe());
            if (c.b() == null) {
                out.line("   %-20s | %-40s | spread (max-min)/median", "figure", c.a().label() + ", median [min-max]");
            } else {
                out.line("   A = %s, B = %s; %d rounds, median [min-max]; ratio A/B computed round by round",
                    c.a().label(), c.b().label(), a.size());
                out.line("   %-18s | %-34s | %-34s | %s", "figure", "A " + c.a().label(), "B " + c.b().label(),
                    "A/B");
            }
            for (Figure f : FIGURES) {
                double[] av = a.stream().mapToDouble(f.value()).toArray();
                if (c.b() == null) {
                    if (Double.isNaN(Stats.median(av))) {
                        continue;
                    }
                    out.line("   %-20s | %-40s | %.0f%%", f.name(), Stats.mmm(av, f.format()), Stats.spreadPercent(av));
                    rows.add(String.join(",", c.name(), f.name(), c.a().label(), RunResult.num(Stats.median(av)),
                        RunResult.num(Stats.min(av)), RunResult.num(Stats.max(av)), "", "", "", "", "", "", "",
                        String.valueOf(av.length)));
                    continue;
                }
                double[] bv = b.stream().mapToDouble(f.value()).toArray();
                int n = Math.min(av.length, bv.length);
                double[] ratio = new double[n];
                for (int i = 0; i < n; i++) {
                    ratio[i] = av[i] / bv[i];
                }
                if (Double.isNaN(Stats.median(av)) && Double.isNaN(Stats.median(bv))) {
                    continue;
                }
                out.line("   %-18s | %-34s | %-34s | %s", f.name(), Stats.mmm(av, f.format()), Stats.mmm(bv, f.format()),
                    Stats.mmm(ratio, "%.2f"));
                rows.add(String.join(",", c.name(), f.name(), c.a().label(), RunResult.num(Stats.median(av)),
                    RunResult.num(Stats.min(av)), RunResult.num(Stats.max(av)), c.b().label(),
                    RunResult.num(Stats.median(bv)), RunResult.num(Stats.min(bv)), RunResult.num(Stats.max(bv)),
                    RunResult.num(Stats.median(ratio)), RunResult.num(Stats.min(ratio)),
                    RunResult.num(Stats.max(ratio)), String.valueOf(n)));
            }
            long bad = runs.stream().filter(x -> x.comparison().equals(c.name()) && !x.countOk()).count();
            if (bad > 0) {
                out.line("   !!! %d run(s) of this comparison did not add exactly the records sent to the log", bad);
            }
        }
        write(summaryCsv, String.join("\n", rows) + "\n");
    }

    private static void writeCsvHeader(Path csv) {
        write(csv, RunResult.CSV_HEADER + "\n");
    }

    private static void appendCsv(Path csv, RunResult r) {
        try {
            Files.writeString(csv, r.csv() + "\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void write(Path file, String content) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, content, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
