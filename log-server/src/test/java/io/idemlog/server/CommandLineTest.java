package io.idemlog.server;

import io.idemlog.server.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CommandLineTest {
    @Test
    void shouldRunOnDefaultsWithoutArguments() {
        CommandLine c = CommandLine.parse(List.of());
        assertNull(c.propertiesFile());
        assertTrue(c.overrides().isEmpty());
    }

    @Test
    void shouldTakeAFileAndOverridesInEveryForm() {
        CommandLine c = CommandLine.parse(List.of("server.properties", "--override", "num.partitions=4",
            "--log.dirs=/data", "--listeners", "PLAINTEXT://127.0.0.1:9999", "--override=node.id=3"));
        assertEquals(Paths.get("server.properties"), c.propertiesFile());
        assertEquals(Map.of("num.partitions", "4", "log.dirs", "/data", "listeners", "PLAINTEXT://127.0.0.1:9999",
            "node.id", "3"), c.overrides());
    }

    @Test
    void shouldRejectWhatItCannotParse() {
        assertThrows(ConfigException.class, () -> CommandLine.parse(List.of("--override")));
        assertThrows(ConfigException.class, () -> CommandLine.parse(List.of("--override", "novalue")));
        assertThrows(ConfigException.class, () -> CommandLine.parse(List.of("a.properties", "b.properties")));
        assertThrows(ConfigException.class, () -> CommandLine.parse(List.of("--num.partitions")));
    }
}
