package dev.ferry.device.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DiskSpaceRuleTest {
    private static final long MIB = 1024 * 1024;
    private static final long GIB = 1024 * MIB;
    private static final Path DEST = Path.of("/var/lib/ferry/images");

    private static DiskImage image(String format, long virtual, long actual, boolean blockDevice) {
        return new DiskImage(Path.of("/images/vm1-root." + format), format, virtual, actual, blockDevice);
    }

    @Test
    void requiredBytes_rawNeedsItsWholeVirtualSize() {
        assertThat(DiskSpaceRule.requiredBytes(image("raw", 20 * GIB, 3 * GIB, false))).isEqualTo(20 * GIB);
    }

    @Test
    void requiredBytes_qcow2NeedsAllocatedPlusTenPercentPlus64MiB() {
        assertThat(DiskSpaceRule.requiredBytes(image("qcow2", 20 * GIB, 1000 * MIB, false)))
                .isEqualTo(1000 * MIB + 100 * MIB + 64 * MIB);
    }

    @Test
    void refusal_noneWhenExactlyEnoughIsUsable() {
        DiskImage qcow2 = image("qcow2", 20 * GIB, 1000 * MIB, false);
        assertThat(DiskSpaceRule.refusal("disk0", qcow2, false, DEST, DiskSpaceRule.requiredBytes(qcow2))).isEmpty();
    }

    @Test
    void refusal_oneByteShortSaysWhatIsNeededAndWhy() {
        DiskImage qcow2 = image("qcow2", 20 * GIB, 1000 * MIB, false);
        assertThat(DiskSpaceRule.refusal("disk0", qcow2, false, DEST, DiskSpaceRule.requiredBytes(qcow2) - 1))
                .hasValueSatisfying(reason -> assertThat(reason)
                        .startsWith("disk 'disk0': not enough room in " + DEST)
                        .contains("needs 1.1 GiB (1000.0 MiB allocated + 10% + 64 MiB headroom)")
                        .contains("/images/vm1-root.qcow2")
                        .contains("free space there"));
    }

    @Test
    void refusal_rawSaysItNeedsItsVirtualSize() {
        assertThat(DiskSpaceRule.refusal("data", image("raw", 8 * GIB, 0, false), false, DEST, GIB))
                .hasValueSatisfying(reason -> assertThat(reason).contains("needs 8.0 GiB (its virtual size), 1.0 GiB usable"));
    }

    @Test
    void refusal_hostBlockDeviceIsRefusedUnlessShared() {
        DiskImage device = new DiskImage(Path.of("/dev/sdb1"), "raw", 8 * GIB, 0, true);
        assertThat(DiskSpaceRule.refusal("data", device, false, DEST, 100 * GIB))
                .hasValueSatisfying(reason -> assertThat(reason)
                        .contains("disk 'data'").contains("/dev/sdb1 is a host block device").contains("mark the disk shared"));
        assertThat(DiskSpaceRule.refusal("data", device, true, DEST, 0)).isEmpty();
    }

    @Test
    void refusal_formatsOtherThanRawAndQcow2AreRefused() {
        assertThat(DiskSpaceRule.refusal("old", image("vmdk", GIB, GIB, false), false, DEST, 100 * GIB))
                .hasValueSatisfying(reason -> assertThat(reason).contains("format 'vmdk'").contains("qemu-img convert"));
        assertThatThrownBy(() -> DiskSpaceRule.requiredBytes(image("vmdk", GIB, GIB, false)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("vmdk");
    }

    @Test
    void bytes_readsAsPeopleWriteSizes() {
        assertThat(DiskSpaceRule.bytes(512)).isEqualTo("512 B");
        assertThat(DiskSpaceRule.bytes(64 * MIB)).isEqualTo("64.0 MiB");
        assertThat(DiskSpaceRule.bytes(3 * GIB / 2)).isEqualTo("1.5 GiB");
    }
}
