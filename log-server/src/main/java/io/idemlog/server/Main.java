package io.idemlog.server;

import io.idemlog.server.config.ConfigException;
import io.idemlog.server.config.ServerConfig;
import io.idemlog.server.log.DataDirTool;
import io.idemlog.server.log.LogManager;
import org.agrona.concurrent.SystemEpochClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar idemlog-server.jar [server.properties] [--override key=value]...}: starts the server and runs
 * until SIGTERM/SIGINT, which triggers a clean shutdown (producer-state snapshots written). Exit code 2 on a
 * configuration error, 1 on a start failure. {@code verify DIR} and {@code dump DIR ...} run the offline verifier
 * instead ({@link DataDirTool}).
 */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (DataDirTool.isCommand(args)) {
            // verify / dump: the offline check of a data directory (docs/STORAGE.md, "Offline verification")
            System.exit(DataDirTool.run(args, System.out, System.err, Main::describeMeta));
            return;
        }
        CommandLine cli;
        ServerConfig config;
        try {
            cli = CommandLine.parse(Arrays.asList(args));
            if (cli.help()) {
                System.out.print(CommandLine.usage());
                System.out.print(ServerConfig.describe());
                return;
            }
            if (cli.version()) {
                System.out.println("idemlog " + version());
                return;
            }
            config = ServerConfig.load(cli.propertiesFile(), cli.overrides());
        } catch (ConfigException e) {
            System.err.println("idemlog: " + e.getMessage());
            System.exit(2);
            return;
        } catch (IOException e) {
            System.err.println("idemlog: cannot read the properties file: " + e);
            System.exit(2);
            return;
        }
        IdemlogServer server;
        try {
            server = IdemlogServer.start(config,
                (dir, logConfig, listener) -> LogManager.open(dir, logConfig, SystemEpochClock.INSTANCE, listener));
        } catch (IOException | RuntimeException e) {
            LOG.error("idemlog failed to start", e);
            // One line an operator sees even when the log goes elsewhere: it names the file when a file is refused.
            System.err.println("idemlog: cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (IOException e) {
                LOG.error("error during shutdown", e);
            } finally {
                stopped.countDown();
            }
        }, "idemlog-shutdown"));
        LOG.info("idemlog {} started: listening on {}:{}, data in {}", version(), config.listener.host(),
            server.port(), config.dataDir);
        stopped.await();
    }

    /** The verifier's check of meta.properties: the server's own reading of it. */
    static String describeMeta(java.nio.file.Path file) throws IOException {
        java.util.Properties p = MetaProperties.read(file);
        return "cluster.id=" + p.getProperty("cluster.id") + " node.id=" + p.getProperty("node.id") + " version="
            + p.getProperty("version");
    }

    private static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
