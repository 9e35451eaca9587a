package dev.ferry.device.disk;

import dev.ferry.vm.DeviceSpec;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where this host keeps the copies of incoming disks, {@code <root>/<vm>/<id>.<format>}, so that
 * two agents on one machine never share a copy, and where the source reaches their NBD exports.
 *
 * @param images        qemu-img on this host
 * @param root          the images directory, one subdirectory per VM
 * @param exportAddress the address NBD exports listen on (the agent's migration address)
 * @param tlsExports    whether exports speak TLS: the incoming QEMU then holds the server credentials
 *                      {@link dev.ferry.vm.QemuTls#CREDS} and the authorization {@link dev.ferry.vm.QemuTls#AUTHZ}
 *                      before its first export is opened
 */
public record ImageStore(DiskImages images, Path root, String exportAddress, boolean tlsExports) {
    /** A store whose exports are plain NBD. */
    public ImageStore(DiskImages images, Path root, String exportAddress) {
        this(images, root, exportAddress, false);
    }

    public ImageStore {
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(exportAddress, "exportAddress");
        root = root.toAbsolutePath();
    }

    /** The directory of {@code vm}'s copies; a destination that restarted mid-prepare deletes it whole. */
    public Path vmDir(String vm) {
        return root.resolve(vm);
    }

    /** Where the copy of {@code disk} of {@code vm} goes. */
    public Path target(String vm, DeviceSpec.Disk disk) {
        return vmDir(vm).resolve(disk.id() + "." + disk.format().wire());
    }
}
