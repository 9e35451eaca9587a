package dev.ferry.device.disk;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What {@code qemu-img info} says about one disk image, plus whether it is a host block device.
 *
 * @param path        the image file or device
 * @param format      the format QEMU reads it as, e.g. {@code qcow2} or {@code raw}
 * @param virtualSize the size the guest sees, in bytes
 * @param actualSize  the bytes the image occupies on its host (allocated, not apparent size)
 * @param blockDevice whether {@code path} is a host block device or partition, not a file
 */
public record DiskImage(Path path, String format, long virtualSize, long actualSize, boolean blockDevice) {
    /** The format that stores only what the guest wrote, so it needs far less room than its virtual size. */
    public static final String QCOW2 = "qcow2";
    /** The format that maps guest sectors one to one onto the file or device. */
    public static final String RAW = "raw";

    public DiskImage {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(format, "format");
        if (virtualSize <= 0) {
            throw new IllegalArgumentException("virtual size of image " + path + " must be positive, was " + virtualSize);
        }
        if (actualSize < 0) {
            throw new IllegalArgumentException("actual size of image " + path + " must not be negative, was " + actualSize);
        }
    }
}
