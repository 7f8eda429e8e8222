package io.idemlog.server.group;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An in-memory journal for tests: appends wait for {@link #sync()}, which makes them "durable" (kept in
 * {@link #durable}) and runs the waiting actions; {@link #load()} replays the durable records (a restart loses what
 * was never synced, as a crash would).
 */
final class MemoryOffsetJournal implements OffsetJournal {
    /** An offset put (value), an offset delete (tp, no value), a group put (record) or a group delete (neither). */
    record Rec(String group, TopicPartition tp, OffsetValue value, GroupRecord record) {
        Rec(String group, TopicPartition tp, OffsetValue value) {
            this(group, tp, value, null);
        }
    }

    final List<Rec> durable = new ArrayList<>();
    private final List<Rec> pending = new ArrayList<>();
    private final List<DurableAction> waiting = new ArrayList<>();
    /** The next sync fails (as a failed fsync: the journal says false to everyone waiting). */
    boolean failNextSync;

    @Override
    public Map<String, Map<TopicPartition, OffsetValue>> load() {
        Map<String, Map<TopicPartition, OffsetValue>> state = new TreeMap<>();
        for (Rec r : durable) {
            if (r.tp() == null) {
                continue;
            }
            if (r.value() != null) {
                state.computeIfAbsent(r.group(), g -> new TreeMap<>()).put(r.tp(), r.value());
            } else if (state.containsKey(r.group())) {
                state.get(r.group()).remove(r.tp());
            }
        }
        return state;
    }

    @Override
    public Map<String, GroupRecord> loadedGroups() {
        Map<String, GroupRecord> groups = new TreeMap<>();
        for (Rec r : durable) {
            if (r.tp() == null && r.record() != null) {
                groups.put(r.group(), r.record());
            } else if (r.tp() == null) {
                groups.remove(r.group());
            }
        }
        return groups;
    }

    @Override
    public void putGroup(String group, GroupRecord record) {
        pending.add(new Rec(group, null, null, record));
    }

    @Override
    public void deleteGroup(String group) {
        pending.add(new Rec(group, null, null, null));
    }

    @Override
    public void put(String group, TopicPartition tp, OffsetValue value) {
        pending.add(new Rec(group, tp, value));
    }

    @Override
    public void delete(String group, TopicPartition tp) {
        pending.add(new Rec(group, tp, null));
    }

    @Override
    public void whenDurable(DurableAction action) {
        if (pending.isEmpty() && waiting.isEmpty()) {
            action.run(true);
        } else {
            waiting.add(action);
        }
    }

    @Override
    public void sync() {
        boolean ok = !failNextSync;
        failNextSync = false;
        if (ok) {
            durable.addAll(pending);
        }
        pending.clear();
        List<DurableAction> run = new ArrayList<>(waiting);
        waiting.clear();
        for (DurableAction a : run) {
            a.run(ok);
        }
    }

    @Override
    public boolean hasPending() {
        return !pending.isEmpty() || !waiting.isEmpty();
    }

    /** Records appended and not yet synced. */
    int pendingCount() {
        return pending.size();
    }

    /** A crash: what was not synced is lost, and nobody is told (the connections are gone). */
    void crash() {
        pending.clear();
        waiting.clear();
    }

    @Override
    public void close() {
    }
}
