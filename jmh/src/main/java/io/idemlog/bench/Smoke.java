package io.idemlog.bench;

import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * A quick pass over every benchmark and every combination of its parameters, to prove that each still runs, not to
 * measure anything: one 100 ms warm-up and one 100 ms measurement iteration, in this JVM (no fork). It then checks
 * that every (benchmark, mode, parameters) combination the benchmark list promises produced a finite score; JMH
 * itself only logs a benchmark that throws and carries on.
 *
 * <p>Runs from {@code jmh/smoke.sh} (exit status 1 when anything is missing) and from the test phase
 * ({@code SmokeTest}). A new benchmark class needs nothing here: it is found through {@code META-INF/BenchmarkList}.
 *
 * <p>Accepts JMH's own command-line options, which win over the smoke settings: a regexp to select benchmarks,
 * {@code -p name=v1,v2} to narrow a matrix, {@code -f 1} to smoke in forked JVMs as real runs do.
 */
public final class Smoke {
    /** Each iteration's length: long enough for the JIT to compile the benchmark loop, short enough for CI. */
    public static final TimeValue ITERATION_TIME = TimeValue.milliseconds(100);

    private Smoke() {
    }

    /** What the smoke pass found: the combinations expected, and which of them failed. */
    public record Report(int expected, List<String> missing, List<String> badScores, long elapsedMillis) {
        public boolean ok() {
            return expected > 0 && missing.isEmpty() && badScores.isEmpty();
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            if (ok()) {
                sb.append("SMOKE OK: ").append(expected).append(" benchmark runs, each produced a score, in ")
                    .append(elapsedMillis).append(" ms");
                return sb.toString();
            }
            sb.append("SMOKE FAILED: ").append(expected - missing.size() - badScores.size()).append(" of ")
                .append(expected).append(" benchmark runs produced a score, in ").append(elapsedMillis).append(" ms");
            if (expected == 0) {
                sb.append("\n  no benchmark matched (is META-INF/BenchmarkList on the class path?)");
            }
            for (String m : missing) {
                sb.append("\n  no result (it threw; JMH printed why above, unless run with -v SILENT): ").append(m);
            }
            for (String b : badScores) {
                sb.append("\n  bad score: ").append(b);
            }
            return sb.toString();
        }
    }

    public static void main(String[] args) {
        Options given;
        try {
            given = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
            return;
        }
        Report report;
        try {
            report = run(given);
        } catch (RunnerException e) {
            e.printStackTrace();
            System.exit(1);
            return;
        }
        System.out.println(report);
        System.exit(report.ok() ? 0 : 1);
    }

    /** The smoke settings, for every option that {@code given} does not set itself. */
    public static Options smokeOptions(Options given) {
        OptionsBuilder b = new OptionsBuilder();
        b.parent(given);
        if (!given.getForkCount().hasValue()) {
            b.forks(0);
        }
        if (!given.getWarmupIterations().hasValue()) {
            b.warmupIterations(1);
        }
        if (!given.getWarmupTime().hasValue()) {
            b.warmupTime(ITERATION_TIME);
        }
        if (!given.getMeasurementIterations().hasValue()) {
            b.measurementIterations(1);
        }
        if (!given.getMeasurementTime().hasValue()) {
            b.measurementTime(ITERATION_TIME);
        }
        if (!given.shouldFailOnError().hasValue()) {
            // Run everything and report every failure, rather than stop at the first.
            b.shouldFailOnError(false);
        }
        return b.build();
    }

    /** Runs the smoke pass over the benchmarks {@code given} selects (all when it selects none). */
    public static Report run(Options given) throws RunnerException {
        Options options = smokeOptions(given);
        SortedSet<String> expected = expectedRuns(options);
        long start = System.nanoTime();
        Collection<RunResult> results = expected.isEmpty() ? List.of() : new Runner(options).run();
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        SortedSet<String> missing = new TreeSet<>(expected);
        List<String> badScores = new ArrayList<>();
        for (RunResult result : results) {
            String key = key(result);
            missing.remove(key);
            double score = result.getPrimaryResult().getScore();
            if (!Double.isFinite(score) || score <= 0) {
                badScores.add(key + " = " + score);
            }
        }
        return new Report(expected.size(), List.copyOf(missing), badScores, elapsedMillis);
    }

    /** Every (benchmark, mode, parameters) combination that the options select, as {@link #key} spells it. */
    static SortedSet<String> expectedRuns(Options options) {
        PrintStream quiet = new PrintStream(PrintStream.nullOutputStream());
        SortedSet<BenchmarkListEntry> entries = BenchmarkList.defaultList()
            .find(OutputFormatFactory.createFormatInstance(quiet, VerboseMode.SILENT), includes(options),
                options.getExcludes());
        SortedSet<String> keys = new TreeSet<>();
        for (BenchmarkListEntry entry : entries) {
            List<Mode> modes = new ArrayList<>(options.getBenchModes());
            if (modes.isEmpty()) {
                modes.add(entry.getMode());
            }
            for (Mode mode : modes) {
                for (Map<String, String> params : paramCombinations(entry, options)) {
                    keys.add(key(entry.getUsername(), mode, params));
                }
            }
        }
        return keys;
    }

    private static List<String> includes(Options options) {
        // An empty include list means "everything", as on JMH's own command line.
        return options.getIncludes().isEmpty() ? List.of(".*") : options.getIncludes();
    }

    /** The cartesian product of the entry's parameters, each overridden by {@code -p} where given. */
    private static List<Map<String, String>> paramCombinations(BenchmarkListEntry entry, Options options) {
        List<Map<String, String>> combinations = new ArrayList<>();
        combinations.add(new TreeMap<>());
        if (!entry.getParams().hasValue()) {
            return combinations;
        }
        for (Map.Entry<String, String[]> param : new TreeMap<>(entry.getParams().get()).entrySet()) {
            String name = param.getKey();
            Collection<String> values = options.getParameter(name).hasValue()
                ? options.getParameter(name).get()
                : List.of(param.getValue());
            List<Map<String, String>> next = new ArrayList<>();
            for (Map<String, String> partial : combinations) {
                for (String value : values) {
                    Map<String, String> extended = new TreeMap<>(partial);
                    extended.put(name, value);
                    next.add(extended);
                }
            }
            combinations = next;
        }
        return combinations;
    }

    private static String key(RunResult result) {
        var params = result.getParams();
        Map<String, String> values = new TreeMap<>();
        for (String name : params.getParamsKeys()) {
            values.put(name, params.getParam(name));
        }
        return key(params.getBenchmark(), params.getMode(), values);
    }

    private static String key(String benchmark, Mode mode, Map<String, String> params) {
        return benchmark + " [" + mode.shortLabel() + "] " + params;
    }
}
