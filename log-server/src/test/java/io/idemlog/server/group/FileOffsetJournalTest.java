package io.idemlog.server.group;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileOffsetJournalTest {
    @TempDir
    Path dir;

    private static OffsetValue v(long offset) {
        return new OffsetValue(offset, 3, "meta-" + offset, 1000 + offset, -1);
    }

    @Test
    void acknowledgedOnlyAfterSyncAndReplayedAfterReopen() throws IOException {
        FileOffsetJournal j = new FileOffsetJournal(dir, 1 << 20);
        assertTrue(j.load().isEmpty());
        j.put("g", new TopicPartition("t", 0), v(5));
        j.put("g", new TopicPartition("t", 1), v(7));
        j.put("h", new TopicPartition("t", 0), v(9));
        j.delete("h", new TopicPartition("t", 0));
        List<Boolean> answers = new ArrayList<>();
        j.whenDurable(answers::add);
        assertEquals(List.of(), answers, "not answered before the fsync");
        j.sync();
        assertEquals(List.of(true), answers);
        assertEquals(1, j.syncs());
        // not closed: as after SIGKILL (the data is in the file, fsync'd)
        Map<String, Map<TopicPartition, OffsetValue>> state = new FileOffsetJournal(dir, 1 << 20).load();
        assertEquals(Map.of("g", new TreeMap<>(Map.of(new TopicPartition("t", 0), v(5),
            new TopicPartition("t", 1), v(7)))), state);
    }

    @Test
    void aTornTailIsCutAndEverythingBeforeItKept() throws IOException {
        FileOffsetJournal j = new FileOffsetJournal(dir, 1 << 20);
        j.load();
        j.put("g", new TopicPartition("t", 0), v(5));
        j.sync();
        Path log = onlyLog();
        long good = Files.size(log);
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.APPEND)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {0, 0, 0, 40, 1, 2, 3})); // a record cut by a crash
        }
        FileOffsetJournal again = new FileOffsetJournal(dir, 1 << 20);
        assertEquals(v(5), again.load().get("g").get(new TopicPartition("t", 0)));
        assertEquals(good, Files.size(log));
        again.put("g", new TopicPartition("t", 0), v(6));
        again.sync();
        assertEquals(v(6), new FileOffsetJournal(dir, 1 << 20).load().get("g").get(new TopicPartition("t", 0)));
    }

    @Test
    void aDamagedSnapshotRefusesToStart() throws IOException {
        FileOffsetJournal j = new FileOffsetJournal(dir, 100);
        j.load();
        for (int i = 0; i < 10; i++) {
            j.put("g", new TopicPartition("t", i), v(i));
        }
        j.sync();
        assertTrue(j.wantsCompaction());
        j.compact(j.load(), j.loadedGroups()); // the state as replayed
        Path snap = dir.resolve(FileOffsetJournal.DIR).resolve(FileOffsetJournal.SNAPSHOT);
        byte[] bytes = Files.readAllBytes(snap);
        bytes[30] ^= 1;
        Files.write(snap, bytes);
        assertThrows(IOException.class, () -> new FileOffsetJournal(dir, 100).load());
    }

    /** Restart reads a snapshot plus a bounded log, however many commits came before. */
    @Test
    void compactionBoundsWhatARestartReads() throws IOException {
        FileOffsetJournal j = new FileOffsetJournal(dir, 4096);
        Map<String, Map<TopicPartition, OffsetValue>> model = j.load();
        for (int round = 0; round < 600; round++) {
            TopicPartition tp = new TopicPartition("t", round % 4);
            j.put("g", tp, v(round));
            model.computeIfAbsent("g", g -> new TreeMap<>()).put(tp, v(round));
            j.sync();
            if (j.wantsCompaction()) {
                j.compact(model, Map.of());
            }
        }
        assertTrue(j.compactions() > 5, "compactions " + j.compactions());
        long onDisk;
        try (Stream<Path> files = Files.list(dir.resolve(FileOffsetJournal.DIR))) {
            onDisk = files.mapToLong(p -> p.toFile().length()).sum();
        }
        assertTrue(onDisk < 3 * 4096, "bytes on disk " + onDisk);
        assertEquals(model, new FileOffsetJournal(dir, 4096).load());
        // a compaction that stopped after the snapshot but before deleting the old log: the old log is ignored
        assertFalse(new FileOffsetJournal(dir, 4096).load().isEmpty());
    }

    @Test
    void groupRecordsAreReplayedAndSurviveCompaction() throws IOException {
        FileOffsetJournal j = new FileOffsetJournal(dir, 100);
        j.load();
        j.put("g", new TopicPartition("t", 0), v(1));
        j.putGroup("g", new OffsetJournal.GroupRecord("consumer", -1));
        j.putGroup("g", new OffsetJournal.GroupRecord("consumer", 12345));
        j.putGroup("h", new OffsetJournal.GroupRecord("connect", 7));
        j.putGroup("gone", new OffsetJournal.GroupRecord("consumer", 1));
        j.deleteGroup("gone");
        j.sync();
        Map<String, OffsetJournal.GroupRecord> expected = Map.of("g", new OffsetJournal.GroupRecord("consumer", 12345),
            "h", new OffsetJournal.GroupRecord("connect", 7));
        FileOffsetJournal again = new FileOffsetJournal(dir, 100);
        Map<String, Map<TopicPartition, OffsetValue>> offsets = again.load();
        assertEquals(expected, again.loadedGroups());
        assertTrue(again.wantsCompaction());
        again.compact(offsets, again.loadedGroups());
        assertEquals(1, again.compactions());
        FileOffsetJournal third = new FileOffsetJournal(dir, 100);
        assertEquals(offsets, third.load());
        assertEquals(expected, third.loadedGroups(), "the snapshot holds the group records");
    }

    private Path onlyLog() throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve(FileOffsetJournal.DIR))) {
            List<Path> logs = files.filter(p -> p.toString().endsWith(".log")).toList();
            assertEquals(1, logs.size());
            return logs.get(0);
        }
    }
}
