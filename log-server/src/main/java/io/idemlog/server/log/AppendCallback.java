package io.idemlog.server.log;

/** The answer to an asynchronous append ({@link Partition#append(java.nio.ByteBuffer, int, int, AppendCallback)}). */
@FunctionalInterface
public interface AppendCallback {
    /** The batch's outcome: appended, duplicate (original offsets) or why it was refused; never null. */
    void onAppended(AppendResult result);
}
