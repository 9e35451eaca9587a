package dev.ferry.device.disk;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.proc.RunningProcess;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A QEMU for disk tests: TCG, no guest kernel (it sits in firmware), one disk attached as block node
 * and virtio-blk device both named after the disk's device id, and a QMP socket.
 */
final class DiskQemu implements AutoCloseable {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final RunningProcess process;
    private final QmpClient qmp;

    private DiskQemu(RunningProcess process, QmpClient qmp) {
        this.process = process;
        this.qmp = qmp;
    }

    /** Starts QEMU with {@code image} as disk {@code deviceId}; {@code incoming} adds {@code -incoming defer}. */
    static DiskQemu start(ProcessRunner runner, Path dir, String name, String deviceId, Path image, String format,
                          boolean incoming) throws IOException, QmpException {
        Path socket = dir.resolve(name + ".qmp");
        List<String> argv = new ArrayList<>(List.of("qemu-system-x86_64", "-machine", "q35", "-accel", "tcg",
                "-m", "64", "-nodefaults", "-display", "none",
                "-qmp", "unix:" + socket + ",server=on,wait=off",
                "-blockdev", "driver=" + format + ",node-name=" + deviceId + ",file.driver=file,file.filename=" + image,
                "-device", "virtio-blk-pci,drive=" + deviceId + ",id=" + deviceId));
        if (incoming) {
            argv.addAll(List.of("-incoming", "defer"));
        }
        RunningProcess process = runner.start(Command.of(argv).timeout(Duration.ofMinutes(10)));
        try {
            return new DiskQemu(process, QmpClient.connect(socket, WAIT));
        } catch (QmpException e) {
            process.kill();
            throw e;
        }
    }

    QmpClient qmp() {
        return qmp;
    }

    long pid() {
        return process.pid();
    }

    /**
     * Writes through the guest's view of disk {@code deviceId} (its virtio-blk backend), as the guest
     * would, while a mirror holds the block node; returns the monitor's output.
     */
    String guestWrite(String deviceId, String qemuIoCommand) throws QmpException {
        JsonNode out = qmp.execute("human-monitor-command",
                Map.of("command-line", "qemu-io -d " + deviceId + "/virtio-backend \"" + qemuIoCommand + "\""));
        return out.asText();
    }

    /** Quits QEMU, killing its process group if it will not go. */
    @Override
    public void close() {
        try {
            if (qmp.isOpen()) {
                qmp.execute("quit");
            }
        } catch (QmpException e) {
            // Already going away; the wait below decides.
        } finally {
            qmp.close();
        }
        try {
            Optional<ProcResult> result = process.await(WAIT);
            if (result.isEmpty()) {
                process.kill();
            }
        } catch (InterruptedException e) {
            process.kill();
            Thread.currentThread().interrupt();
        }
    }
}
