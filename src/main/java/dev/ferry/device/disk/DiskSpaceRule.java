package dev.ferry.device.disk;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Whether a local disk can be copied to a destination directory: the CHECK rule, free of side
 * effects so the coordinator can ask it for every disk and report all refusals together.
 *
 * <p>A raw copy needs its whole virtual size: the mirror writes every block the guest can see,
 * and a sparse file may be filled completely by the time the guest runs there. A qcow2 copy needs
 * what the source has allocated plus {@value #QCOW2_HEADROOM_PERCENT}% and
 * {@value #QCOW2_HEADROOM_MIB} MiB, because the guest keeps writing (and allocating) while the
 * mirror runs and qcow2 metadata grows with it.
 */
final class DiskSpaceRule {
    /** Share of the allocated size added as room for guest writes during the copy. */
    static final int QCOW2_HEADROOM_PERCENT = 10;
    /** Fixed room added for qcow2 metadata and small images. */
    static final long QCOW2_HEADROOM_MIB = 64;

    private static final long MIB = 1024 * 1024;

    private DiskSpaceRule() {
    }

    /** Bytes that must be free on the destination for a copy of {@code source}. */
    static long requiredBytes(DiskImage source) {
        return switch (source.format()) {
            case DiskImage.RAW -> source.virtualSize();
            case DiskImage.QCOW2 -> Math.addExact(source.actualSize(),
                    source.actualSize() / 100 * QCOW2_HEADROOM_PERCENT + QCOW2_HEADROOM_MIB * MIB);
            default -> throw new IllegalArgumentException("no space rule for image format '" + source.format()
                    + "' of " + source.path() + "; only raw and qcow2 images are copied");
        };
    }

    /**
     * Why disk {@code diskId} cannot be copied into {@code targetDir}, or empty when it can.
     *
     * @param source      the source image as {@link DiskImages#info} describes it on the source host
     * @param shared      whether the disk is marked shared (both hosts see the same storage: nothing to copy)
     * @param targetDir   where the destination creates the copy
     * @param usableBytes the bytes a new file may take there ({@link DiskImages#usableSpace})
     */
    static Optional<String> refusal(String diskId, DiskImage source, boolean shared, Path targetDir,
                                           long usableBytes) {
        Objects.requireNonNull(diskId, "diskId");
        if (shared) {
            return Optional.empty();
        }
        String disk = "disk '" + diskId + "'";
        if (source.blockDevice()) {
            return Optional.of(disk + ": " + source.path() + " is a host block device, which Ferry does not copy;"
                    + " mark the disk shared if the destination sees the same device, or move it to an image file");
        }
        if (!source.format().equals(DiskImage.RAW) && !source.format().equals(DiskImage.QCOW2)) {
            return Optional.of(disk + ": image " + source.path() + " has format '" + source.format()
                    + "', and only raw and qcow2 images are copied; convert it with qemu-img convert -O qcow2");
        }
        long needed = requiredBytes(source);
        if (usableBytes >= needed) {
            return Optional.empty();
        }
        return Optional.of(disk + ": not enough room in " + targetDir + " for a " + source.format() + " copy of "
                + source.path() + ": needs " + bytes(needed) + " (" + why(source) + "), " + bytes(usableBytes)
                + " usable; free space there or give the disk another image directory");
    }

    private static String why(DiskImage source) {
        if (source.format().equals(DiskImage.RAW)) {
            return "its virtual size";
        }
        return bytes(source.actualSize()) + " allocated + " + QCOW2_HEADROOM_PERCENT + "% + " + QCOW2_HEADROOM_MIB
                + " MiB headroom";
    }

    /** Sizes as people read them: {@code 512 B}, {@code 64.0 MiB}, {@code 1.5 GiB}. */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double value = n;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }
}
