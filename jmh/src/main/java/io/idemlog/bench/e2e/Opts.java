package io.idemlog.bench.e2e;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Command-line options {@code --name value} or {@code --name=value}; every name read is remembered, so that
 * {@link #rejectUnknown()} can refuse a misspelt option instead of silently running with a default.
 */
final class Opts {
    private final Map<String, String> values = new LinkedHashMap<>();
    private final Set<String> known = new TreeSet<>();

    Opts(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("expected --name value, got '" + a + "'");
            }
            String name = a.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                value = args[++i];
            } else {
                value = "true";
            }
            values.put(name, value);
        }
    }

    String str(String name, String def) {
        known.add(name);
        return values.getOrDefault(name, def);
    }

    int integer(String name, int def) {
        return Integer.parseInt(str(name, String.valueOf(def)).replace("_", ""));
    }

    long longValue(String name, long def) {
        return Long.parseLong(str(name, String.valueOf(def)).replace("_", ""));
    }

    double dbl(String name, double def) {
        return Double.parseDouble(str(name, String.valueOf(def)));
    }

    boolean bool(String name, boolean def) {
        String v = str(name, String.valueOf(def)).toLowerCase(Locale.ROOT);
        if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException("--" + name + " takes true or false, not " + v);
        }
        return Boolean.parseBoolean(v);
    }

    List<String> list(String name, String def) {
        String v = str(name, def);
        List<String> out = new ArrayList<>();
        for (String s : v.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        return out;
    }

    List<Integer> ints(String name, String def) {
        return list(name, def).stream().map(Integer::parseInt).toList();
    }

    List<Double> doubles(String name, String def) {
        return list(name, def).stream().map(Double::parseDouble).toList();
    }

    /** {@code name=value,name=value} pairs (server properties), in order. */
    Map<String, String> props(String name) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String kv : list(name, "")) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--" + name + " takes name=value[,name=value], not " + kv);
            }
            out.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return out;
    }

    /** Throws if an option was given that no code asked for. */
    void rejectUnknown() {
        List<String> unknown = new ArrayList<>();
        for (String name : values.keySet()) {
            if (!known.contains(name)) {
                unknown.add("--" + name);
            }
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown option(s) " + unknown + "; known: "
                + Arrays.toString(known.stream().map(k -> "--" + k).toArray()));
        }
    }

    /** The options as given, for the run's header. */
    String given() {
        StringBuilder sb = new StringBuilder();
        values.forEach((k, v) -> sb.append(" --").append(k).append('=').append(v));
        return sb.length() == 0 ? " (defaults)" : sb.toString();
    }
}
