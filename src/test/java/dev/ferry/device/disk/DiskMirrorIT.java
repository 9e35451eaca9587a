package dev.ferry.device.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.proc.Processes;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Copies a disk between two real QEMUs (TCG, no guest) the way a migration does: the destination
 * exports an empty image over NBD, the source mirrors into it, and the copy is compared at the end.
 */
class DiskMirrorIT {
    private static final String DISK = "disk0";
    private static final long SIZE = 64L * 1024 * 1024;
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private final ProcessRunner runner = new ProcessRunner();
    private final DiskImages images = new DiskImages(runner);
    private Path source;
    private Path target;

    @BeforeEach
    void sourceImageWithData() throws Exception {
        source = dir.resolve("source.qcow2");
        target = dir.resolve("target.qcow2");
        images.create(source, DiskImage.QCOW2, SIZE);
        qemuIo(source, "write -P 0x5a 1M 4M");
        qemuIo(source, "write -P 0x3c 40M 4M");
    }

    @Test
    void mirrorCopiesTheDiskAndTheWritesMadeWhileItRuns() throws Exception {
        DiskImage info = images.info(source);
        assertThat(info.format()).isEqualTo(DiskImage.QCOW2);
        assertThat(info.virtualSize()).isEqualTo(SIZE);
        assertThat(DiskSpaceRule.refusal(DISK, info, false, dir, images.usableSpace(dir))).isEmpty();
        images.create(target, info.format(), info.virtualSize());

        List<DiskMirrorProgress> progress = new CopyOnWriteArrayList<>();
        try (DiskQemu src = DiskQemu.start(runner, dir, "source", DISK, source, DiskImage.QCOW2, false);
             DiskQemu dst = DiskQemu.start(runner, dir, "destination", DISK, target, DiskImage.QCOW2, true)) {
            NbdExport nbd = new NbdExport(dst.qmp());
            int port = nbd.startServer("127.0.0.1", 0);
            NbdTarget export = nbd.add(DISK, DISK);
            assertThat(export.uri()).isEqualTo("nbd://127.0.0.1:" + port + "/" + DISK);

            DiskMirror mirror = new DiskMirror(src.qmp());
            // Limited so that readiness takes several progress polls, as with any real disk.
            mirror.start(List.of(new DiskMirror.Disk(DISK, DISK, export)), 4 * 1024 * 1024);
            mirror.awaitReady(WAIT, progress::add);
            assertThat(progress).hasSizeGreaterThan(2);
            assertThat(progress.get(0).fraction()).isLessThan(1.0);
            assertThat(progress.get(progress.size() - 1).fraction()).isEqualTo(1.0);

            String written = src.guestWrite(DISK, "write -P 0x77 10M 1M");
            assertThat(written).doesNotContainIgnoringCase("error").doesNotContainIgnoringCase("conflict");

            src.qmp().execute("stop");
            mirror.complete(WAIT);
            assertThat(src.qmp().execute("query-block-jobs")).isEmpty();
            assertThat(nodeNames(src.qmp().execute("query-named-block-nodes"))).doesNotContain("nbd-" + DISK);

            nbd.remove(DISK);
            nbd.stopServer();
            assertThat(dst.qmp().execute("query-block-exports")).isEmpty();
            assertThat(listening(port)).as("NBD port closed").isFalse();
        }
        assertThat(images.identical(source, target)).as("qemu-img compare source target").isTrue();
        assertThat(qemuIo(source, "read -P 0x77 10M 1M")).doesNotContain("verification failed");
        assertThat(qemuIo(target, "read -P 0x77 10M 1M")).doesNotContain("verification failed");
        assertThat(qemuIo(target, "read -P 0x3c 40M 4M")).doesNotContain("verification failed");
    }

    @Test
    void rollbackAfterTheMirrorStartedLeavesTheSourceAsItWas() throws Exception {
        Path before = dir.resolve("before.qcow2");
        Files.copy(source, before);
        DiskImage info = images.info(source);
        images.create(target, info.format(), info.virtualSize());

        long srcPid;
        long dstPid;
        try (DiskQemu src = DiskQemu.start(runner, dir, "source", DISK, source, DiskImage.QCOW2, false)) {
            srcPid = src.pid();
            int port;
            try (DiskQemu dst = DiskQemu.start(runner, dir, "destination", DISK, target, DiskImage.QCOW2, true)) {
                dstPid = dst.pid();
                NbdExport nbd = new NbdExport(dst.qmp());
                port = nbd.startServer("127.0.0.1", 0);
                DiskMirror mirror = new DiskMirror(src.qmp());
                // Slow enough that the job is still copying when the rollback comes.
                mirror.start(List.of(new DiskMirror.Disk(DISK, DISK, nbd.add(DISK, DISK))), 1024 * 1024);
                assertThatThrownBy(() -> mirror.awaitReady(Duration.ofSeconds(1), p -> { }))
                        .isInstanceOf(DiskException.class).hasMessageContaining("not ready");

                mirror.cancel(WAIT);
                mirror.cancel(WAIT);
                assertThat(src.qmp().execute("query-block-jobs")).isEmpty();
                assertThat(nodeNames(src.qmp().execute("query-named-block-nodes"))).doesNotContain("nbd-" + DISK);
                assertThat(src.qmp().execute("query-status").path("status").asText()).isEqualTo("running");

                nbd.abort(List.of(DISK));
                assertThat(dst.qmp().execute("query-block-exports")).isEmpty();
            }
            assertThat(images.delete(target)).isTrue();
            assertThat(listening(port)).as("NBD port closed").isFalse();
        }
        assertThat(Processes.isAlive(srcPid)).isFalse();
        assertThat(Processes.isAlive(dstPid)).isFalse();
        assertThat(target).doesNotExist();
        assertThat(Files.mismatch(source, before)).as("first differing byte of the source image").isEqualTo(-1L);
    }

    private String qemuIo(Path image, String command) throws Exception {
        ProcResult result = runner.run(Command.of("qemu-io", "-c", command, image.toString())
                .timeout(Duration.ofSeconds(30)));
        assertThat(result.ok()).as(result.describe()).isTrue();
        return result.stdout().text();
    }

    private static List<String> nodeNames(JsonNode nodes) {
        return nodes.findValuesAsText("node-name");
    }

    private static boolean listening(int port) throws Exception {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (ConnectException e) {
            return false;
        }
    }
}
