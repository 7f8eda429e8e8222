package io.idemlog.bench.e2e;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.style.Styler;

import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * PNG charts from the harness's own CSV files: {@code <tag>-runs.csv} (e2e/peer) and {@code <tag>-faults.csv}.
 * Every bar is the median over the rounds of the runs in the file; nothing is typed in by hand.
 */
final class Plots {
    private static final int W = 1100;
    private static final int H = 520;

    private Plots() {
    }

    static int run(Opts o) throws IOException {
        Path in = Path.of(o.str("in", "docs/benchmarks"));
        String tag = o.str("tag", null);
        o.rejectUnknown();
        if (tag == null) {
            throw new IllegalArgumentException("--tag NAME: plots NAME-runs.csv and/or NAME-faults.csv (or a "
                + "restart benchmark's restarts-*.txt)");
        }
        List<Path> written = plot(in, tag);
        if (written.isEmpty()) {
            System.err.println("nothing to plot: neither " + in.resolve(tag + "-runs.csv") + " nor "
                + in.resolve(tag + "-faults.csv") + " exists");
            return 1;
        }
        written.forEach(p -> System.out.println("wrote " + p));
        return 0;
    }

    /** Plots after a run; a plotting failure is printed, never fatal (the CSV files are what matters). */
    static void plotQuietly(Out out, Path dir, String tag) {
        try {
            for (Path p : plot(dir, tag)) {
                out.line("plot: %s", p);
            }
        } catch (IOException | RuntimeException e) {
            out.line("plotting failed (%s); the CSV files are complete: jmh/bench.sh plot --in %s --tag %s", e, dir,
                tag);
        }
    }

    static List<Path> plot(Path in, String tag) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<Path> written = new ArrayList<>();
        Path runs = in.resolve(tag + "-runs.csv");
        if (Files.exists(runs)) {
            written.addAll(peer(read(runs), in, tag));
        }
        Path faults = in.resolve(tag + "-faults.csv");
        if (Files.exists(faults)) {
            // --compare-props rows (variant=true) are left out of the charts: they have the table's "on*" line.
            written.addAll(faults(read(faults).stream().filter(r -> !"true".equals(r.get("variant"))).toList(), in,
                tag));
        }
        Path restarts = in.resolve(tag + ".txt");
        if (tag.startsWith("restarts") && Files.exists(restarts)) {
            written.add(restarts(restarts, in.resolve(tag + ".png")));
        }
        return written;
    }

    /** The rows of a CSV file written by the harness (no quoting needed: no field contains a comma). */
    static List<Map<String, String>> read(Path csv) throws IOException {
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        String[] header = lines.get(0).split(",", -1);
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split(",", -1);
            Map<String, String> row = new HashMap<>();
            for (int i = 0; i < header.length && i < f.length; i++) {
                row.put(header[i], f[i]);
            }
            rows.add(row);
        }
        return rows;
    }

    private static double median(List<Map<String, String>> rows, Predicate<Map<String, String>> filter, String col) {
        return Stats.median(rows.stream().filter(filter).map(r -> r.get(col)).filter(s -> s != null && !s.isEmpty())
            .mapToDouble(Double::parseDouble).toArray());
    }

    private static CategoryChart chart(String title, String x, String y) {
        CategoryChart c = new CategoryChartBuilder().width(W).height(H).title(title).xAxisTitle(x).yAxisTitle(y)
            .build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        c.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        c.getStyler().setLabelsVisible(true);
        c.getStyler().setYAxisMin(0.0);
        return c;
    }

    private static Path save(CategoryChart c, Path dir, String name) throws IOException {
        Path file = dir.resolve(name + ".png");
        BitmapEncoder.saveBitmap(c, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        return file;
    }

    private static List<Path> peer(List<Map<String, String>> rows, Path dir, String tag) throws IOException {
        List<Path> out = new ArrayList<>();
        String rounds = String.valueOf(rows.stream().map(r -> r.get("round")).distinct().count());
        Set<String> clients = new LinkedHashSet<>();
        Set<Integer> partitions = new TreeSet<>();
        Set<String> targets = new LinkedHashSet<>();
        for (Map<String, String> r : rows) {
            if (r.get("mode").equals("max") && !r.get("comparison").startsWith("idem-cost")) {
                clients.add(r.get("client"));
                partitions.add(Integer.parseInt(r.get("partitions")));
                targets.add(r.get("target"));
            }
        }
        // 1. throughput vs partitions: one chart per client, idemlog and Kafka side by side
        if (!clients.isEmpty()) {
            List<CategoryChart> grid = new ArrayList<>();
            List<String> xs = partitions.stream().map(p -> p + (p == 1 ? " partition" : " partitions")).toList();
            for (String client : clients) {
                CategoryChart c = new CategoryChartBuilder().width(700).height(420)
                    .title(client + ": records/s, median of " + rounds + " rounds").xAxisTitle("")
                    .yAxisTitle("records/s").build();
                c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
                c.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
                c.getStyler().setLabelsVisible(true);
                c.getStyler().setYAxisMin(0.0);
                c.getStyler().setYAxisDecimalPattern("#,###");
                for (String target : targets) {
                    List<Double> ys = new ArrayList<>();
                    for (int p : partitions) {
                        ys.add(zero(median(rows, r -> r.get("mode").equals("max") && r.get("client").equals(client)
                            && r.get("target").equals(target) && r.get("partitions").equals(String.valueOf(p))
                            && !r.get("comparison").startsWith("idem-cost"), "records_per_s")));
                    }
                    c.addSeries(target, xs, ys).setFillColor(color(target));
                }
                grid.add(c);
            }
            // XChart's grid needs rows x cols == charts: 2 columns for an even count, else one row (3 clients)
            int cols = grid.size() % 2 == 0 ? 2 : grid.size() <= 3 ? grid.size() : 1;
            int gridRows = grid.size() / cols;
            Path file = dir.resolve(tag + "-throughput-vs-partitions.png");
            BitmapEncoder.saveBitmap(grid, gridRows, cols, file.toString(), BitmapEncoder.BitmapFormat.PNG);
            out.add(file);
        }
        // 2. idemlog / Kafka throughput ratio per client, per partition count, against the 1.5x target
        if (targets.contains("kafka") && targets.contains("idemlog")) {
            CategoryChart c = chart("idemlog / Kafka throughput ratio per client (median of per-round ratios, "
                + rounds + " rounds; " + describe(rows) + "); target 1.5x", "client", "ratio idemlog / Kafka (records/s)");
            c.getStyler().setYAxisDecimalPattern("0.00");
            List<String> xs = new ArrayList<>(clients);
            for (int p : partitions) {
                List<Double> ys = new ArrayList<>();
                for (String client : clients) {
                    ys.add(zero(ratio(rows, r -> (r.get("comparison").startsWith("peer ")
                        || r.get("comparison").startsWith("cluster "))
                        && r.get("client").equals(client) && r.get("partitions").equals(String.valueOf(p)))));
                }
                c.addSeries(p + " partition" + (p == 1 ? "" : "s"), xs, ys);
            }
            CategorySeries target = c.addSeries("target 1.5x", xs, xs.stream().map(x -> 1.5).toList());
            target.setChartCategorySeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
            CategorySeries parity = c.addSeries("parity 1.0x", xs, xs.stream().map(x -> 1.0).toList());
            parity.setChartCategorySeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
            out.add(save(c, dir, tag + "-ratio-per-client"));
        }
        // 3. latency percentiles at a fixed offered rate
        List<Map<String, String>> lat = rows.stream().filter(r -> r.get("mode").equals("fixed-rate")).toList();
        if (!lat.isEmpty()) {
            Map<String, String> first = lat.get(0);
            CategoryChart c = chart("Latency send() to ack at a fixed offered rate of " + first.get("rate")
                + " records/s, " + first.get("partitions") + " partitions (median of " + rounds + " rounds)",
                "percentile", "ms");
            c.getStyler().setYAxisDecimalPattern("0.0");
            List<String> xs = List.of("p50", "p99", "p99.9");
            Set<String> series = new LinkedHashSet<>();
            lat.forEach(r -> series.add(r.get("target") + " / " + r.get("client") + " / p" + r.get("partitions")));
            for (String s : series) {
                Predicate<Map<String, String>> f = r -> (r.get("target") + " / " + r.get("client") + " / p"
                    + r.get("partitions")).equals(s);
                c.addSeries(s, xs, List.of(zero(median(lat, f, "p50_ms")), zero(median(lat, f, "p99_ms")),
                    zero(median(lat, f, "p999_ms"))));
            }
            out.add(save(c, dir, tag + "-latency"));
        }
        // 4. idempotence cost
        List<Map<String, String>> cost = rows.stream().filter(r -> r.get("comparison").startsWith("idem-cost"))
            .toList();
        if (!cost.isEmpty()) {
            CategoryChart c = chart("Idempotence on vs off, idemlog server, acks=all (median of " + rounds
                + " rounds)", "client / partitions", "records/s");
            c.getStyler().setYAxisDecimalPattern("#,###");
            List<String> xs = cost.stream().map(r -> r.get("client") + " p" + r.get("partitions")).distinct().toList();
            for (String idem : List.of("true", "false")) {
                List<Double> ys = new ArrayList<>();
                for (String x : xs) {
                    ys.add(zero(median(cost, r -> (r.get("client") + " p" + r.get("partitions")).equals(x)
                        && r.get("idempotence").equals(idem), "records_per_s")));
                }
                c.addSeries("idempotence " + (idem.equals("true") ? "on" : "off"), xs, ys);
            }
            out.add(save(c, dir, tag + "-idempotence-cost"));
        }
        return out;
    }

    /** Median over rounds of the A/B records/s ratio of the comparisons selected. */
    private static double ratio(List<Map<String, String>> rows, Predicate<Map<String, String>> filter) {
        Map<String, Double> a = new LinkedHashMap<>();
        Map<String, Double> b = new LinkedHashMap<>();
        for (Map<String, String> r : rows) {
            if (filter.test(r)) {
                String key = r.get("comparison") + "#" + r.get("round");
                (r.get("side").equals("A") ? a : b).put(key, Double.parseDouble(r.get("records_per_s")));
            }
        }
        List<Double> ratios = new ArrayList<>();
        a.forEach((k, v) -> {
            if (b.containsKey(k)) {
                ratios.add(v / b.get(k));
            }
        });
        return Stats.median(ratios.stream().mapToDouble(Double::doubleValue).toArray());
    }

    private static String describe(List<Map<String, String>> rows) {
        Map<String, String> r = rows.get(0);
        return String.format(java.util.Locale.ROOT, "%,d x %s B, acks=%s, idempotence %s",
            Long.parseLong(r.get("records")), r.get("size"), r.get("acks"), r.get("idempotence").equals("true")
                ? "on" : "off");
    }

    /** The same colour for a server in every chart. */
    private static Color color(String target) {
        return switch (target) {
            case "idemlog" -> new Color(0x1f, 0x77, 0xb4);
            case "kafka" -> new Color(0xff, 0x7f, 0x0e);
            default -> Color.GRAY;
        };
    }

    private static double zero(double d) {
        return Double.isNaN(d) ? 0.0 : d;
    }

    private static List<Path> faults(List<Map<String, String>> rows, Path dir, String tag) throws IOException {
        List<Path> out = new ArrayList<>();
        String rounds = String.valueOf(rows.stream().map(r -> r.get("round")).distinct().count());
        List<String> xs = new ArrayList<>();
        rows.stream().map(r -> r.get("scenario")).distinct().forEach(xs::add);
        xs.sort((x, y) -> Double.compare(order(rows, x), order(rows, y)));
        CategoryChart t = chart("Throughput vs fault rate, idemlog producer -> fault proxy -> idemlog server (median of "
            + rounds + " rounds, " + String.format(java.util.Locale.ROOT, "%,d", Long.parseLong(rows.get(0)
            .get("records"))) + " records per run)", "scenario", "records/s");
        t.getStyler().setYAxisDecimalPattern("#,###");
        CategoryChart d = chart("Duplicates in the log vs fault rate (sum over " + rounds + " rounds)", "scenario",
            "duplicate records");
        d.getStyler().setYAxisDecimalPattern("#,###");
        for (String idem : List.of("true", "false")) {
            List<Double> tp = new ArrayList<>();
            List<Double> dup = new ArrayList<>();
            for (String x : xs) {
                Predicate<Map<String, String>> f = r -> r.get("scenario").equals(x) && r.get("idempotence").equals(idem);
                tp.add(zero(median(rows, f, "records_per_s")));
                dup.add(rows.stream().filter(f).mapToDouble(r -> Double.parseDouble(r.get("duplicates"))).sum());
            }
            String name = "idempotence " + (idem.equals("true") ? "on" : "off");
            t.addSeries(name, xs, tp);
            d.addSeries(name, xs, dup);
        }
        out.add(save(t, dir, tag + "-faults-throughput"));
        out.add(save(d, dir, tag + "-faults-duplicates"));
        return out;
    }

    /**
     * The restart benchmark's chart (jmh/bench.sh restarts; RestartDedupTest's printed summary, one block per client:
     * a "restarts CLIENT: ..." line, then the dedup on and dedup off lines): per client, the re-sent records and the
     * duplicates stored with and without de-duplication keys.
     */
    static Path restarts(Path summary, Path png) throws IOException {
        java.util.regex.Pattern head = java.util.regex.Pattern.compile("^restarts (\\S+): ([0-9,]+) events, (\\d+) app");
        java.util.regex.Pattern line = java.util.regex.Pattern.compile(
            "dedup (on|off)\\s*: stored [0-9,]+, distinct [0-9,]+, duplicates ([0-9,]+), missing ([0-9,]+), "
                + "re-sent ([0-9,]+)");
        List<String> clients = new ArrayList<>();
        List<Double> resent = new ArrayList<>();
        List<Double> resentOn = new ArrayList<>();
        List<Double> dupOn = new ArrayList<>();
        List<Double> dupOff = new ArrayList<>();
        String events = "?";
        String kills = "?";
        for (String l : Files.readAllLines(summary, StandardCharsets.UTF_8)) {
            java.util.regex.Matcher h = head.matcher(l);
            if (h.find()) {
                clients.add(h.group(1));
                events = h.group(2);
                kills = h.group(3);
                continue;
            }
            java.util.regex.Matcher m = line.matcher(l);
            if (m.find()) {
                double dup = Double.parseDouble(m.group(2).replace(",", ""));
                if (m.group(1).equals("on")) {
                    dupOn.add(dup);
                    resentOn.add(Double.parseDouble(m.group(4).replace(",", "")));
                } else {
                    dupOff.add(dup);
                    resent.add(Double.parseDouble(m.group(4).replace(",", "")));
                }
            }
        }
        if (clients.isEmpty() || dupOn.size() != clients.size() || dupOff.size() != clients.size()) {
            throw new IOException(summary + ": not a restart benchmark summary");
        }
        int k = Integer.parseInt(kills);
        int serverKills = (k >= 2 ? 1 : 0) + (k >= 2 ? 1 : 0) + (k >= 7 ? 1 : 0); // RestartDedupTest's plan
        CategoryChart c = chart("Restarted producers: " + events + " events, " + kills + " application SIGKILLs and "
            + serverKills + " server SIGKILLs per run", "application client", "records");
        c.getStyler().setYAxisDecimalPattern("#,###");
        c.addSeries("re-sent, dedup on", clients, resentOn);
        c.addSeries("duplicates stored, dedup on", clients, dupOn);
        c.addSeries("re-sent, dedup off (control)", clients, resent);
        c.addSeries("duplicates stored, dedup off (control)", clients, dupOff);
        BitmapEncoder.saveBitmap(c, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        return png;
    }

    /** Scenarios in a sensible order: no proxy, then by fault rate, then SIGKILL. */
    private static double order(List<Map<String, String>> rows, String scenario) {
        Map<String, String> r = rows.stream().filter(x -> x.get("scenario").equals(scenario)).findFirst().orElseThrow();
        if (r.get("proxy").equals("false")) {
            return -1;
        }
        return Double.parseDouble(r.get("fault_rate")) + (r.get("kill").equals("true") ? 10 : 0);
    }
}
