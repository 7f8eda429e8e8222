package io.idemlog.server.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The table of every server property: name, type, default, allowed range and meaning. Parsing rejects unknown
 * names (with a suggestion) and out-of-range values, so a typo never silently falls back to a default.
 */
final class ConfigDef {
    /** One property. {@code defaultValue} null means "no default" (optional, derived or unset). */
    record Key(String name, Type type, String defaultValue, long min, long max, String doc, List<String> aliasOf) {
    }

    enum Type { STRING, INT, LONG, BOOLEAN, LIST }

    private final Map<String, Key> keys = new LinkedHashMap<>();

    ConfigDef define(String name, Type type, String defaultValue, long min, long max, String doc) {
        keys.put(name, new Key(name, type, defaultValue, min, max, doc, List.of()));
        return this;
    }

    ConfigDef define(String name, Type type, String defaultValue, String doc) {
        return define(name, type, defaultValue, Long.MIN_VALUE, Long.MAX_VALUE, doc);
    }

    Map<String, Key> keys() {
        return Collections.unmodifiableMap(keys);
    }

    /** Checks every property name and value; returns name -> raw value (defaults filled in where they exist). */
    Map<String, String> parse(Map<String, String> props) {
        List<String> errors = new ArrayList<>();
        Map<String, String> values = new LinkedHashMap<>();
        for (Key k : keys.values()) {
            if (k.defaultValue != null) {
                values.put(k.name, k.defaultValue);
            }
        }
        for (Map.Entry<String, String> e : props.entrySet()) {
            String name = e.getKey().trim();
            String value = e.getValue() == null ? "" : e.getValue().trim();
            Key k = keys.get(name);
            if (k == null) {
                errors.add("unknown property '" + name + "'" + suggestion(name));
                continue;
            }
            String problem = check(k, value);
            if (problem != null) {
                errors.add(problem);
                continue;
            }
            values.put(name, value);
        }
        if (!errors.isEmpty()) {
            throw new ConfigException("invalid configuration:\n  " + String.join("\n  ", errors)
                + "\n(run with --help for the list of properties)");
        }
        return values;
    }

    private static String check(Key k, String value) {
        switch (k.type) {
            case INT, LONG -> {
                long v;
                try {
                    v = Long.parseLong(value);
                } catch (NumberFormatException ex) {
                    return k.name + "=" + value + ": not a number";
                }
                if (k.type == Type.INT && (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE)) {
                    return k.name + "=" + value + ": out of the int range";
                }
                if (v < k.min || v > k.max) {
                    return k.name + "=" + value + ": must be in [" + k.min + ", " + k.max + "]";
                }
                return null;
            }
            case BOOLEAN -> {
                return value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")
                    ? null : k.name + "=" + value + ": must be true or false";
            }
            default -> {
                return null;
            }
        }
    }

    private String suggestion(String name) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : keys.keySet()) {
            int d = distance(name, candidate);
            if (d < bestDistance) {
                bestDistance = d;
                best = candidate;
            }
        }
        return best != null && bestDistance <= Math.max(2, name.length() / 4) ? " (did you mean '" + best + "'?)" : "";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    static <T> T parseOr(String raw, Function<String, T> parser, T fallback) {
        return raw == null ? fallback : parser.apply(raw);
    }
}
