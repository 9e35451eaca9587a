package dev.ferry.device.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.qmp.QmpEvent;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DiskMirrorJobTest {
    private final ObjectMapper mapper = new ObjectMapper();
    private final NbdTarget target = new NbdTarget("10.0.0.2", 10809, "disk0");
    private final DiskMirrorJob job = new DiskMirrorJob(new DiskMirror.Disk("disk0", "disk0-fmt", target));

    @Test
    void namesDeriveFromTheDeviceIdAlone() {
        assertThat(job.jobId()).isEqualTo("mirror-disk0");
        assertThat(job.clientNodeName()).isEqualTo("nbd-disk0");
    }

    @Test
    void mirrorArgs_fullSyncFromTheDiskNodeIntoTheNbdNode() {
        assertThat(job.mirrorArgs(0)).isEqualTo(Map.of(
                "job-id", "mirror-disk0", "device", "disk0-fmt", "target", "nbd-disk0", "sync", "full"));
        assertThat(job.mirrorArgs(50_000_000)).containsEntry("speed", 50_000_000L);
    }

    @Test
    void deviceIdsQemuCannotNameAreRefused() {
        assertThatThrownBy(() -> new DiskMirror.Disk("0disk", "n", target))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("disk '0disk'");
        assertThatThrownBy(() -> new DiskMirror.Disk("disk 0", "n", target))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("start with a letter");
        String longest = "d".repeat(DiskMirrorJob.MAX_NODE_NAME - "nbd-".length());
        assertThat(new DiskMirror.Disk(longest, "n", target).deviceId()).isEqualTo(longest);
        assertThatThrownBy(() -> new DiskMirror.Disk(longest + "d", "n", target))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shorten it");
    }

    @Test
    void isMine_matchesOnlyThisJobsEvents() {
        assertThat(job.isMine(event(QmpEvent.BLOCK_JOB_READY, "{\"device\": \"mirror-disk0\"}"))).isTrue();
        assertThat(job.isMine(event(QmpEvent.BLOCK_JOB_READY, "{\"device\": \"mirror-disk1\"}"))).isFalse();
    }

    @Test
    void offer_readyThenCompletedEndsTheJob() {
        job.offer(event(QmpEvent.BLOCK_JOB_READY, "{\"device\": \"mirror-disk1\"}"));
        assertThat(job.isReady()).isFalse();
        job.offer(event(QmpEvent.BLOCK_JOB_READY, "{\"device\": \"mirror-disk0\"}"));
        assertThat(job.isReady()).isTrue();
        assertThat(job.hasEnded()).isFalse();
        job.offer(event(QmpEvent.BLOCK_JOB_COMPLETED, "{\"device\": \"mirror-disk0\"}"));
        assertThat(job.isReady()).isFalse();
        assertThat(job.hasEnded()).isTrue();
        assertThat(job.endEvent()).hasValueSatisfying(e -> assertThat(e.name()).isEqualTo(QmpEvent.BLOCK_JOB_COMPLETED));
    }

    @Test
    void offer_endBeforeReadyAnswersTheReadinessWaitWithTheEnd() {
        job.offer(event(QmpEvent.BLOCK_JOB_COMPLETED, "{\"device\": \"mirror-disk0\", \"error\": \"No space left\"}"));
        assertThat(job.readyOrEnd().join().name()).isEqualTo(QmpEvent.BLOCK_JOB_COMPLETED);
        assertThat(job.isReady()).isFalse();
    }

    @Test
    void failure_isQemusErrorOrTheCancellationAndEmptyForACleanEnd() {
        assertThat(DiskMirrorJob.failure(event(QmpEvent.BLOCK_JOB_COMPLETED,
                "{\"device\": \"mirror-disk0\", \"error\": \"Input/output error\"}"))).isEqualTo("mirror failed: Input/output error");
        assertThat(DiskMirrorJob.failure(event(QmpEvent.BLOCK_JOB_CANCELLED, "{\"device\": \"mirror-disk0\"}")))
                .contains("cancelled before the copy was consistent");
        assertThat(DiskMirrorJob.failure(event(QmpEvent.BLOCK_JOB_COMPLETED, "{\"device\": \"mirror-disk0\"}"))).isEmpty();
    }

    @Test
    void progress_sumsTheJobsAndCountsAJobNotYetListedAsNotBegun() throws Exception {
        DiskMirrorJob other = new DiskMirrorJob(new DiskMirror.Disk("disk1", "disk1", target));
        DiskMirrorJob absent = new DiskMirrorJob(new DiskMirror.Disk("disk2", "disk2", target));
        String jobs = """
                [{"device": "mirror-disk0", "len": 1000, "offset": 250, "ready": false},
                 {"device": "mirror-disk1", "len": 3000, "offset": 3000, "ready": true},
                 {"device": "backup-other", "len": 9000, "offset": 0}]
                """;
        DiskMirrorProgress progress = DiskMirrorProgress.of(mapper.readTree(jobs), List.of(job, other, absent));
        assertThat(progress.copiedBytes()).isEqualTo(3250);
        assertThat(progress.totalBytes()).isEqualTo(4000);
        assertThat(progress.fraction()).isEqualTo(3250.0 / 4000);
        assertThat(progress.byDisk()).isEqualTo(Map.of("disk0", 0.25, "disk1", 1.0, "disk2", 0.0));
    }

    @Test
    void progress_withNothingToCopyIsComplete() {
        assertThat(new DiskMirrorProgress(0, 0, Map.of()).fraction()).isEqualTo(1.0);
    }

    private QmpEvent event(String name, String data) {
        try {
            return new QmpEvent(name, mapper.readTree(data), Instant.EPOCH);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }
}
