package dev.ferry.device;

import dev.ferry.vm.QemuTls;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * What a device step is given: which VM, which device, how and where it moves, and where to
 * report progress. The same context is passed to every step of one device in one migration.
 *
 * @param vmName      the VM's name
 * @param vmUuid      the VM's UUID
 * @param device      the device
 * @param mode        live or save
 * @param destination the destination host's name (live) or the file's path (save)
 * @param progress    receives progress and messages from long steps; never null
 * @param endpoint    where the destination takes this device's data, known once the destination
 *                    prepared: an NBD URI for a disk Ferry copies, the path on the destination for a
 *                    disk a tool fills; null when the device needs none
 * @param copyBytesPerSecond a cap on the device's own data copy, 0 for none
 * @param stallTimeout how long the device's own data copy may make no progress before it fails as stalled
 * @param receiver    who takes the device's data at the endpoint, for messages ("the destination's
 *                    incoming QEMU (pid N on 'host')"); null when unknown
 * @param streamTls   how the source's QEMU reaches the destination's QEMU over TLS (a disk's NBD copy);
 *                    null when its streams are plain
 */
public record DeviceContext(String vmName, String vmUuid, DeviceRef device, Mode mode, String destination,
                            Consumer<DeviceEvent> progress, String endpoint, long copyBytesPerSecond,
                            Duration stallTimeout, String receiver, QemuTls.Peer streamTls) {

    /** The stall timeout of a context made without one. */
    public static final Duration DEFAULT_STALL_TIMEOUT = Duration.ofSeconds(10);

    public DeviceContext(String vmName, String vmUuid, DeviceRef device, Mode mode, String destination,
                         Consumer<DeviceEvent> progress) {
        this(vmName, vmUuid, device, mode, destination, progress, null, 0);
    }

    public DeviceContext(String vmName, String vmUuid, DeviceRef device, Mode mode, String destination,
                         Consumer<DeviceEvent> progress, String endpoint, long copyBytesPerSecond) {
        this(vmName, vmUuid, device, mode, destination, progress, endpoint, copyBytesPerSecond, DEFAULT_STALL_TIMEOUT,
                null, null);
    }

    /** The same context with the endpoint the destination prepared for this device. */
    public DeviceContext withEndpoint(String endpoint) {
        return withEndpoint(endpoint, receiver);
    }

    /** The same context with the endpoint the destination prepared for this device, and who serves it. */
    public DeviceContext withEndpoint(String endpoint, String receiver) {
        return new DeviceContext(vmName, vmUuid, device, mode, destination, progress, endpoint, copyBytesPerSecond,
                stallTimeout, receiver, streamTls);
    }

    /** Reports a message from this device. */
    public void message(String text) {
        progress.accept(DeviceEvent.message(device, text));
    }

    /** Reports one call of this device's tool, with what it printed. */
    public void toolCall(ToolCall call) {
        progress.accept(DeviceEvent.toolCall(device, call));
    }

    /** Reports progress of this device's current step, from 0 to 1. */
    public void progress(double fraction) {
        progress.accept(DeviceEvent.progress(device, fraction));
    }
}
