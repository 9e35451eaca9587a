package dev.ferry.vm;

import dev.ferry.vm.PathRoots.Use;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Every host path a {@link VmSpec} names, held to this host's {@link PathRoots}: the kernel and
 * initrd, each disk, an swtpm's key file and an external TPM's socket. Refusals name the spec's own
 * field ({@code devices[2].path}), so they point at the line to fix.
 */
public final class SpecPaths {
    private SpecPaths() {}

    /**
     * The spec with every path replaced by what it resolves to now, for QEMU and swtpm to open: what
     * they open is what was checked, even if a path is swapped for a symlink afterwards. Every file
     * must exist, but an external TPM's socket, which its emulator may create later.
     */
    public static VmSpec confine(VmSpec spec, PathRoots roots) throws PathRefusedException {
        return walk(spec, roots, false);
    }

    /**
     * Refuses what {@link #confine} would, except that a disk that does not exist yet (the copy an
     * incoming migration makes at prepare) is judged where it will be created.
     */
    public static void check(VmSpec spec, PathRoots roots) throws PathRefusedException {
        walk(spec, roots, true);
    }

    private static VmSpec walk(VmSpec spec, PathRoots roots, boolean disksMayBeMadeLater) throws PathRefusedException {
        VmSpec.KernelBoot boot = spec.kernelBoot();
        if (boot != null) {
            Path initrd = boot.initrd() == null ? null
                    : noComma("initrd", boot.initrd(), roots.existing(Use.BOOT, "initrd", boot.initrd()), "QEMU");
            boot = new VmSpec.KernelBoot(roots.existing(Use.BOOT, "kernel", boot.kernel()), initrd, boot.cmdline());
        }
        List<DeviceSpec> devices = new ArrayList<>(spec.devices().size());
        for (int i = 0; i < spec.devices().size(); i++) {
            devices.add(device(spec.devices().get(i), "devices[" + i + "].", roots, disksMayBeMadeLater));
        }
        return new VmSpec(spec.name(), spec.uuid(), spec.memoryMiB(), spec.vcpus(), spec.machine(), boot, devices);
    }

    private static DeviceSpec device(DeviceSpec d, String field, PathRoots roots, boolean disksMayBeMadeLater)
            throws PathRefusedException {
        if (d instanceof DeviceSpec.Disk disk) {
            boolean later = disksMayBeMadeLater && !Files.exists(disk.path(), LinkOption.NOFOLLOW_LINKS);
            Path real = later ? roots.toCreate(Use.DISK, field + "path", disk.path())
                    : roots.existing(Use.DISK, field + "path", disk.path());
            // Whether it is a block device is what the resolved path is now, not what it was at definition.
            boolean block = !later && HostFacts.system().isBlockDevice(real);
            return new DeviceSpec.Disk(disk.id(), real, disk.format(), disk.shared(), disk.bus(), disk.cache(), block);
        }
        if (d instanceof DeviceSpec.Tpm tpm && tpm.backend() instanceof DeviceSpec.Swtpm swtpm
                && swtpm.encryptionKeyFile() != null) {
            Path key = noComma(field + "encryptionKeyFile", swtpm.encryptionKeyFile(),
                    roots.existing(Use.KEY, field + "encryptionKeyFile", swtpm.encryptionKeyFile()), "swtpm");
            return new DeviceSpec.Tpm(tpm.id(), tpm.model(), new DeviceSpec.Swtpm(key));
        }
        if (d instanceof DeviceSpec.Tpm tpm && tpm.backend() instanceof DeviceSpec.ExternalTpm ext) {
            Path socket = Files.exists(ext.socket(), LinkOption.NOFOLLOW_LINKS)
                    ? roots.existing(Use.SOCKET, field + "socket", ext.socket())
                    : roots.toCreate(Use.SOCKET, field + "socket", ext.socket());
            return new DeviceSpec.Tpm(tpm.id(), tpm.model(), new DeviceSpec.ExternalTpm(socket));
        }
        // NICs, USB, PCI and external devices name no host file.
        return d;
    }

    /**
     * The parser refuses commas in these paths as given; a symlink can bring one back in the resolved
     * path, where QEMU would read a list of initrds (one of them unchecked) and swtpm another option.
     */
    private static Path noComma(String field, Path given, Path real, String consumer) throws PathRefusedException {
        if (real.toString().indexOf(',') >= 0) {
            throw new PathRefusedException(field, given, real, false, given + " (resolved: " + real + ") contains ','"
                    + " once resolved; " + consumer + " cannot take such a path, rename it");
        }
        return real;
    }
}
