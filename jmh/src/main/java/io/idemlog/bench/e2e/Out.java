package io.idemlog.bench.e2e;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The harness's output: every line goes to stdout and, when a file is given, to that file too, so that the raw
 * output kept in docs/benchmarks/ is exactly what was printed. Progress lines go to stderr only.
 */
final class Out implements AutoCloseable {
    private final PrintStream stdout = System.out;
    private final Writer file;

    Out(Path file) {
        try {
            if (file != null) {
                Files.createDirectories(file.toAbsolutePath().getParent());
                this.file = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING);
            } else {
                this.file = null;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    synchronized void line(String s) {
        stdout.println(s);
        stdout.flush();
        if (file != null) {
            try {
                file.write(s);
                file.write('\n');
                file.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    void line(String format, Object... args) {
        line(String.format(java.util.Locale.ROOT, format, args));
    }

    /** A progress line: stderr only, with the time. */
    void progress(String s) {
        System.err.println("  [" + Instant.now().truncatedTo(ChronoUnit.SECONDS) + "] " + s);
    }

    @Override
    public synchronized void close() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
