package io.idemlog.bench.e2e;

import java.util.Arrays;
import java.util.Locale;

/** Median and range of a handful of values (one per round): what the tables print. */
final class Stats {
    private Stats() {
    }

    static double median(double[] v) {
        double[] s = finite(v);
        if (s.length == 0) {
            return Double.NaN;
        }
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    static double min(double[] v) {
        return Arrays.stream(finite(v)).min().orElse(Double.NaN);
    }

    static double max(double[] v) {
        return Arrays.stream(finite(v)).max().orElse(Double.NaN);
    }

    private static double[] finite(double[] v) {
        return Arrays.stream(v).filter(Double::isFinite).toArray();
    }

    /** "median [min-max]" with the given number format, or "n/a". */
    static String mmm(double[] v, String fmt) {
        if (finite(v).length == 0) {
            return "n/a";
        }
        if (v.length == 1) {
            return String.format(Locale.ROOT, fmt, v[0]);
        }
        return String.format(Locale.ROOT, fmt + " [" + fmt + "-" + fmt + "]", median(v), min(v), max(v));
    }

    /** Relative spread (max - min) / median, in percent. */
    static double spreadPercent(double[] v) {
        return 100 * (max(v) - min(v)) / median(v);
    }
}
