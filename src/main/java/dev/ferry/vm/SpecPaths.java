package dev.ferry.vm;

import dev.ferry.vm.PathRoots.Use;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Every host path a {@link VmSpec} names, held to this host's {@link PathRoots}: the kernel and
 * initrd, each disk (and the backing and data files a qcow2 disk's header names), an swtpm's key
 * file and an external TPM's socket. Refusals name the spec's own
 * field ({@code devices[2].path}), so they point at the line to fix.
 */
public final class SpecPaths {
    /** Backing files followed at most this deep; real chains are a few images long. */
    private static final int MAX_CHAIN = 16;

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
            if (!later) {
                chain(real, disk.format() == DeviceSpec.DiskFormat.QCOW2, field + "path", roots, 0);
            }
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
     * The files a qcow2 disk makes QEMU open by the names in its header (its backing chain and
     * external data files), each held to the roots as the disk is. A backing file whose format the
     * image does not declare is followed only when it is qcow2 itself: QEMU would guess its format
     * from its contents, and a guest can write any format's header into a raw image.
     */
    private static void chain(Path image, boolean qcow2, String field, PathRoots roots, int depth)
            throws PathRefusedException {
        Optional<Qcow2Header> header;
        try {
            header = qcow2 ? Qcow2Header.read(image) : Optional.empty();
        } catch (IOException e) {
            throw new PathRefusedException(field, image, image, false, e.getMessage());
        }
        if (header.isEmpty()) {
            return;
        }
        Qcow2Header h = header.get();
        if (h.dataFile() != null) {
            String f = field + " (the data file of " + image + ")";
            roots.existing(Use.DISK, f, named(f, image, h.dataFile()));
        }
        if (h.backingFile() == null) {
            return;
        }
        String f = field + " (the backing file of " + image + ")";
        if (depth >= MAX_CHAIN) {
            throw new PathRefusedException(f, image, image, false, "the backing chain is deeper than " + MAX_CHAIN
                    + " images; commit it (qemu-img commit) into fewer");
        }
        Path backing = roots.existing(Use.DISK, f, named(f, image, h.backingFile()));
        boolean backingIsQcow2;
        if (h.backingFormat() == null) {
            backingIsQcow2 = isQcow2(f, backing);
            if (!backingIsQcow2) {
                throw new PathRefusedException(f, backing, backing, false, image + " names its backing file " + backing
                        + " without a format, and it is no qcow2 image: QEMU would guess its format from its contents;"
                        + " declare it (qemu-img rebase -u -F raw -b " + backing + " " + image + ")");
            }
        } else if (h.backingFormat().equals("qcow2") || h.backingFormat().equals("raw")) {
            backingIsQcow2 = h.backingFormat().equals("qcow2");
        } else {
            throw new PathRefusedException(f, backing, backing, false, image + " names a backing file of format '"
                    + h.backingFormat() + "'; Ferry follows only qcow2 and raw backing files");
        }
        chain(backing, backingIsQcow2, field, roots, depth + 1);
    }

    /** A file name from an image header, as QEMU reads it: relative to the image's directory, never a protocol. */
    private static Path named(String field, Path image, String name) throws PathRefusedException {
        int colon = name.indexOf(':');
        int slash = name.indexOf('/');
        if (name.isEmpty() || colon >= 0 && (slash < 0 || colon < slash)) {
            throw new PathRefusedException(field, image, image, false, image + " names '" + name + "', which QEMU"
                    + " would open through a protocol or a json: description, not as a file; only file names are allowed");
        }
        return image.resolveSibling(name);
    }

    private static boolean isQcow2(String field, Path file) throws PathRefusedException {
        try {
            return Qcow2Header.isQcow2(file);
        } catch (IOException e) {
            throw new PathRefusedException(field, file, file, false, "cannot read " + file + ": " + e.getMessage());
        }
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
