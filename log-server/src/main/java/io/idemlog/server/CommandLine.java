package io.idemlog.server;

import io.idemlog.server.config.ConfigException;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The server's command line, Kafka's convention: {@code [server.properties] [--override key=value]...}, plus the
 * shorthand {@code --key=value} / {@code --key value}, {@code --help} and {@code --version}.
 *
 * @param propertiesFile the optional properties file
 * @param overrides      properties given as flags (they win over the file)
 * @param help           print the property table and exit
 * @param version        print the version and exit
 */
record CommandLine(Path propertiesFile, Map<String, String> overrides, boolean help, boolean version) {

    static CommandLine parse(List<String> args) {
        Path file = null;
        Map<String, String> overrides = new LinkedHashMap<>();
        boolean help = false;
        boolean version = false;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--help") || a.equals("-h")) {
                help = true;
            } else if (a.equals("--version")) {
                version = true;
            } else if (a.equals("--override")) {
                if (i + 1 >= args.size()) {
                    throw new ConfigException("--override needs key=value");
                }
                put(overrides, args.get(++i));
            } else if (a.startsWith("--override=")) {
                put(overrides, a.substring("--override=".length()));
            } else if (a.startsWith("--")) {
                String kv = a.substring(2);
                if (!kv.contains("=")) {
                    if (i + 1 >= args.size()) {
                        throw new ConfigException(a + " needs a value");
                    }
                    kv = kv + "=" + args.get(++i);
                }
                put(overrides, kv);
            } else if (file == null) {
                file = Paths.get(a);
            } else {
                throw new ConfigException("unexpected argument '" + a + "' (only one properties file)");
            }
        }
        return new CommandLine(file, overrides, help, version);
    }

    private static void put(Map<String, String> overrides, String kv) {
        int eq = kv.indexOf('=');
        if (eq <= 0) {
            throw new ConfigException("'" + kv + "' is not key=value");
        }
        overrides.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
    }

    static String usage() {
        return """
            usage: java -jar idemlog-server.jar [server.properties] [--override key=value]... [--key=value]...
                   java -jar idemlog-server.jar --help | --version
                   java -jar idemlog-server.jar verify DIR | dump DIR [--partition TOPIC-N] [--records]
            Without arguments the server runs on the embedded defaults (127.0.0.1:9092, data in ./idemlog-data).
            Flags override the file. Properties:
            """;
    }
}
