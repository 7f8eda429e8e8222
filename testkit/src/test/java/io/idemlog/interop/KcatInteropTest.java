package io.idemlog.interop;

import io.idemlog.testkit.ServerProcess;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * librdkafka, through kcat: an idempotent produce (-X enable.idempotence=true, acks=all) of 20,000 lines to one
 * partition, consumed back with kcat, must give exactly the lines in order. Needs kcat on the PATH; skipped with a
 * message otherwise, unless IDEMLOG_REQUIRE_KCAT is set (CI sets it, so CI never skips it).
 */
@Tag("slow")
class KcatInteropTest {
    private static final int LINES = 20_000;

    @TempDir
    Path dir;

    private static String kcat() {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            File f = new File(d, "kcat");
            if (f.canExecute()) {
                return f.getPath();
            }
        }
        return null;
    }

    private static String run(Path log, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(false)
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        byte[] out = p.getInputStream().readAllBytes();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done && p.exitValue() == 0, String.join(" ", command) + " failed:\n" + Files.readString(log));
        return new String(out, StandardCharsets.UTF_8);
    }

    @Test
    void kcatProducesIdempotentlyAndConsumesBackEveryLineInOrder() throws Exception {
        String kcat = kcat();
        if (kcat == null) {
            assertTrue(System.getenv("IDEMLOG_REQUIRE_KCAT") == null, "kcat is required (IDEMLOG_REQUIRE_KCAT is "
                + "set) but not on the PATH: apt-get install kcat");
            Assumptions.abort("kcat not found on the PATH (apt-get install kcat): librdkafka interop not tested");
        }
        try (ServerProcess server = ServerProcess.builder(dir.resolve("data"))
            .override("create.topics", "kcat:1")
            .logFile(dir.resolve("server.log"))
            .start()) {
            List<String> lines = new ArrayList<>(LINES);
            for (int i = 0; i < LINES; i++) {
                lines.add(String.format("line-%06d-%s", i, "x".repeat(80)));
            }
            Path input = dir.resolve("input.txt");
            Files.write(input, lines, StandardCharsets.UTF_8);
            Path log = dir.resolve("kcat.log");
            run(log, kcat, "-P", "-b", server.bootstrap(), "-t", "kcat", "-p", "0",
                "-X", "enable.idempotence=true", "-X", "acks=all", "-X", "linger.ms=5", "-l", input.toString());
            String out = run(log, kcat, "-C", "-b", server.bootstrap(), "-t", "kcat", "-p", "0", "-o", "beginning",
                "-e", "-q", "-f", "%s\n");
            List<String> consumed = out.lines().toList();
            assertEquals(LINES, consumed.size(), "every line once");
            assertEquals(lines, consumed, "in order");
        }
    }
}
