package io.idemlog.server.replication;

import io.idemlog.server.state.DurableFiles;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.UUID;

/**
 * Which partition a Raft group holds, written in the group's state machine directory ({@value #FILE_NAME}) when the
 * group is created, so that a group recovered from storage at server start finds its topic and partition without
 * the metadata image (which may not be applied yet). Shipped with every snapshot install too.
 */
public record PartitionDescriptor(String topic, UUID topicId, int partition) {
    public static final String FILE_NAME = "partition.properties";

    public void write(Path dir) throws IOException {
        String text = "topic=" + topic + "\ntopicId=" + topicId + "\npartition=" + partition + "\n";
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        Files.createDirectories(dir);
        DurableFiles.writeAtomically(dir.resolve(FILE_NAME), ch -> DurableFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
    }

    /** Reads the descriptor in {@code dir}, or null when there is none. */
    public static PartitionDescriptor read(Path dir) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return null;
        }
        Properties p = new Properties();
        p.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
        String topic = p.getProperty("topic");
        String id = p.getProperty("topicId");
        String partition = p.getProperty("partition");
        if (topic == null || id == null || partition == null) {
            throw new IOException(file + ": incomplete partition descriptor (topic, topicId, partition)");
        }
        try {
            return new PartitionDescriptor(topic, UUID.fromString(id), Integer.parseInt(partition));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": bad partition descriptor: " + e.getMessage(), e);
        }
    }
}
