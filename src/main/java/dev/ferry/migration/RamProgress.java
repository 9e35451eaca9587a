package dev.ferry.migration;

/**
 * QEMU's view of the RAM (and block) copy, as {@code query-migrate} reports it.
 *
 * @param status         QEMU's migration status (active, pre-switchover, completed, ...)
 * @param transferredBytes bytes sent so far
 * @param remainingBytes bytes still to send
 * @param totalBytes     the guest's RAM size
 * @param dirtyPagesRate pages dirtied per second
 * @param passes         dirty-sync passes so far
 */
public record RamProgress(String status, long transferredBytes, long remainingBytes, long totalBytes,
                          long dirtyPagesRate, long passes) {

    public double fraction() {
        return totalBytes <= 0 ? 0 : Math.min(1.0, (double) (totalBytes - remainingBytes) / totalBytes);
    }
}
