package io.idemlog.server.replication;

import io.idemlog.server.log.ReplicaStorage;
import io.idemlog.server.state.DurableFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A partition group's Raft snapshot (docs/REPLICATION.md 4.3): the Raft term and index it covers, the partition
 * storage's {@link ReplicaStorage.Manifest} (log end, log start, every segment not below it and its size) and the
 * replicated topic settings in force ({@link ReplicatedConfig}, {@code config.<key>=} lines; null when no config
 * entry had been applied, or a manifest written before they were replicated). The snapshot IS the files it names
 * (no copy); restoring cuts the directory to it and lets Ratis replay the rest. Text, written atomically.
 */
record SnapshotManifestFile(long term, long index, ReplicaStorage.Manifest manifest, ReplicatedConfig config) {
    private static final String CONFIG_PREFIX = "config.";

    private static final Logger LOG = LoggerFactory.getLogger(SnapshotManifestFile.class);
    static final String PREFIX = "raft-snapshot.";
    static final String SUFFIX = ".manifest";
    private static final int KEEP = 2;

    String name() {
        return String.format("%s%020d_%020d%s", PREFIX, index, term, SUFFIX);
    }

    Path write(Path dir) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append("term=").append(term).append('\n').append("index=").append(index).append('\n')
            .append("logEndOffset=").append(manifest.logEndOffset()).append('\n');
        if (manifest.logStartOffset() >= 0) {
            sb.append("logStartOffset=").append(manifest.logStartOffset()).append('\n');
        }
        if (manifest.activeRollBaseMs() >= 0) {
            sb.append("activeRollBaseMs=").append(manifest.activeRollBaseMs()).append('\n');
        }
        if (config != null) {
            for (java.util.Map.Entry<String, String> e : config.toMap().entrySet()) {
                sb.append(CONFIG_PREFIX).append(e.getKey()).append('=')
                    .append(ReplicatedConfig.encodeValue(e.getValue())).append('\n');
            }
        }
        for (int i = 0; i < manifest.bases().length; i++) {
            sb.append("segment=").append(manifest.bases()[i]).append(' ').append(manifest.sizes()[i]).append('\n');
        }
        sb.append("end\n");
        byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve(name());
        DurableFiles.writeAtomically(file, ch -> DurableFiles.writeFully(ch, ByteBuffer.wrap(bytes)));
        List<Path> all = list(dir);
        java.util.Set<Long> kept = new java.util.HashSet<>();
        for (int i = 0; i < all.size(); i++) {
            if (i < all.size() - KEEP) {
                Files.deleteIfExists(all.get(i));
            } else {
                kept.add(indexOf(all.get(i)));
            }
        }
        kept.add(index);
        ReplicaStorage.retainStateFiles(dir, kept);
        return file;
    }

    /** The Raft index in a manifest's name, -1 when the name is not one. */
    static long indexOf(Path file) {
        String n = file.getFileName().toString();
        try {
            return Long.parseLong(n.substring(PREFIX.length(), n.indexOf('_', PREFIX.length())));
        } catch (RuntimeException e) {
            return -1L;
        }
    }

    static SnapshotManifestFile read(Path file) throws IOException {
        long term = -1;
        long index = -1;
        long end = -1;
        long start = -1; // absent in manifests written before the log start offset was replicated
        long rollBase = -1; // absent: an empty active segment, or a manifest written before it was recorded
        boolean complete = false;
        List<long[]> segments = new ArrayList<>();
        java.util.Map<String, String> config = new java.util.TreeMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.equals("end")) {
                complete = true;
                continue;
            }
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw new IOException(file + ": bad line '" + line + "'");
            }
            String k = line.substring(0, eq);
            String v = line.substring(eq + 1);
            try {
                if (k.startsWith(CONFIG_PREFIX)) {
                    config.put(k.substring(CONFIG_PREFIX.length()), ReplicatedConfig.decodeValue(v));
                    continue;
                }
                switch (k) {
                    case "term" -> term = Long.parseLong(v);
                    case "index" -> index = Long.parseLong(v);
                    case "logEndOffset" -> end = Long.parseLong(v);
                    case "logStartOffset" -> start = Long.parseLong(v);
                    case "activeRollBaseMs" -> rollBase = Long.parseLong(v);
                    case "segment" -> {
                        int sp = v.indexOf(' ');
                        segments.add(new long[] {Long.parseLong(v.substring(0, sp)),
                            Long.parseLong(v.substring(sp + 1))});
                    }
                    default -> throw new IOException(file + ": unknown key " + k);
                }
            } catch (RuntimeException e) {
                throw new IOException(file + ": bad line '" + line + "'", e);
            }
        }
        if (!complete || term < 0 || index < 0 || end < 0 || segments.isEmpty() || start > end) {
            throw new IOException(file + ": incomplete snapshot manifest");
        }
        long[] bases = new long[segments.size()];
        long[] sizes = new long[segments.size()];
        for (int i = 0; i < bases.length; i++) {
            bases[i] = segments.get(i)[0];
            sizes[i] = segments.get(i)[1];
        }
        ReplicatedConfig replicated = null;
        if (!config.isEmpty()) {
            try {
                replicated = ReplicatedConfig.fromMap(config);
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": bad replicated config " + config + ": " + e.getMessage(), e);
            }
        }
        return new SnapshotManifestFile(term, index, new ReplicaStorage.Manifest(end, start, rollBase, bases, sizes),
            replicated);
    }

    /** The manifests in {@code dir}, oldest first (the name sorts by index). */
    static List<Path> list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(PREFIX) && n.endsWith(SUFFIX);
            }).sorted().toList();
        }
    }

    /** The newest readable manifest, or null. An unreadable newer one is skipped (logged). */
    static SnapshotManifestFile newest(Path dir) throws IOException {
        List<Path> all = list(dir);
        for (int i = all.size() - 1; i >= 0; i--) {
            try {
                return read(all.get(i));
            } catch (IOException e) {
                LOG.warn("ignoring unreadable snapshot manifest {}", all.get(i), e);
            }
        }
        return null;
    }
}
