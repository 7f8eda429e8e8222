package io.idemlog.testkit;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One scrape of a Prometheus text endpoint (the server's metrics.listener), parsed into samples, for tests that
 * check metrics against what a run did. Only the subset of the text format Micrometer writes: {@code name value}
 * and {@code name{k="v",...} value}, comments skipped; label values must not contain {@code ",}.
 */
public final class MetricsScrape {
    /** One sample line. */
    public record Sample(String name, Map<String, String> labels, double value) {
    }

    private final List<Sample> samples;
    private final String text;

    private MetricsScrape(List<Sample> samples, String text) {
        this.samples = samples;
        this.text = text;
    }

    /** GETs {@code http://127.0.0.1:port/metrics} and parses it; fails on anything but 200. */
    public static MetricsScrape of(int port) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        HttpResponse<String> rsp = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
            + "/metrics")).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        if (rsp.statusCode() != 200) {
            throw new IOException("metrics endpoint answered " + rsp.statusCode());
        }
        return parse(rsp.body());
    }

    public static MetricsScrape parse(String text) {
        List<Sample> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            Map<String, String> labels = new LinkedHashMap<>();
            String name;
            if (brace >= 0 && brace < space) {
                name = line.substring(0, brace);
                String body = line.substring(brace + 1, line.lastIndexOf('}'));
                for (String kv : body.split("\",")) {
                    int eq = kv.indexOf('=');
                    if (eq < 0) {
                        continue;
                    }
                    String v = kv.substring(eq + 1).trim();
                    v = v.startsWith("\"") ? v.substring(1) : v;
                    v = v.endsWith("\"") ? v.substring(0, v.length() - 1) : v;
                    labels.put(kv.substring(0, eq).trim().replace(",", ""), v);
                }
            } else {
                name = line.substring(0, space);
            }
            samples.add(new Sample(name, labels, Double.parseDouble(line.substring(space + 1))));
        }
        return new MetricsScrape(samples, text);
    }

    /** The one sample with this name and (at least) these labels (key, value, ...); fails if none or several. */
    public double value(String name, String... labels) {
        Sample found = null;
        for (Sample s : samples) {
            if (!s.name().equals(name)) {
                continue;
            }
            boolean all = true;
            for (int i = 0; i + 1 < labels.length; i += 2) {
                all &= labels[i + 1].equals(s.labels().get(labels[i]));
            }
            if (all) {
                if (found != null) {
                    throw new AssertionError("more than one sample " + name + " " + List.of(labels));
                }
                found = s;
            }
        }
        if (found == null) {
            throw new AssertionError("no sample " + name + " " + List.of(labels) + " in\n" + text);
        }
        return found.value();
    }

    /** The sum of every sample with this name and (at least) these labels; 0 when there is none. */
    public double sum(String name, String... labels) {
        double sum = 0;
        for (Sample s : samples) {
            if (!s.name().equals(name)) {
                continue;
            }
            boolean all = true;
            for (int i = 0; i + 1 < labels.length; i += 2) {
                all &= labels[i + 1].equals(s.labels().get(labels[i]));
            }
            if (all) {
                sum += s.value();
            }
        }
        return sum;
    }

    public String text() {
        return text;
    }
}
