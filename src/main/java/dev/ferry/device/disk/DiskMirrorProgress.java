package dev.ferry.device.disk;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How far the mirrors of a set of disks have come. Totals grow while the guest writes, since QEMU
 * counts re-copied dirty blocks as more work.
 *
 * @param copiedBytes bytes copied so far, all disks together
 * @param totalBytes  bytes to copy as QEMU knows it now, all disks together
 * @param byDisk      each disk's fraction, 0..1, by device id
 */
public record DiskMirrorProgress(long copiedBytes, long totalBytes, Map<String, Double> byDisk) {
    public DiskMirrorProgress {
        byDisk = Map.copyOf(byDisk);
    }

    /** The overall fraction, 0..1; 1 when there is nothing to copy. */
    public double fraction() {
        return totalBytes <= 0 ? 1.0 : Math.min(1.0, (double) copiedBytes / totalBytes);
    }

    /**
     * Reads {@code query-block-jobs}' answer for the given jobs. A job missing from the answer
     * counts as {@code done} (it ended) or as not begun.
     */
    static DiskMirrorProgress of(JsonNode blockJobs, Collection<DiskMirrorJob> jobs) {
        Map<String, JsonNode> byJobId = new LinkedHashMap<>();
        for (JsonNode job : blockJobs) {
            byJobId.put(job.path("device").asText(), job);
        }
        long copied = 0;
        long total = 0;
        Map<String, Double> fractions = new LinkedHashMap<>();
        for (DiskMirrorJob job : jobs) {
            JsonNode info = byJobId.get(job.jobId());
            if (info == null) {
                fractions.put(job.deviceId(), job.hasEnded() ? 1.0 : 0.0);
                continue;
            }
            long len = info.path("len").asLong(0);
            long offset = Math.min(len, info.path("offset").asLong(0));
            copied += offset;
            total += len;
            fractions.put(job.deviceId(), len == 0 ? 1.0 : (double) offset / len);
        }
        return new DiskMirrorProgress(copied, total, fractions);
    }
}
