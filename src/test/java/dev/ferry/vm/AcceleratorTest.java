package dev.ferry.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AcceleratorTest {
    @TempDir
    Path dir;

    @Test
    void kvmUsable_needsTheDeviceAndHardwareVirtualization() throws Exception {
        Path dev = Files.createFile(dir.resolve("kvm"));
        Path vmx = Files.writeString(dir.resolve("vmx"), "processor\t: 0\nflags\t\t: fpu vme pni vmx sse4_2\n");
        Path svm = Files.writeString(dir.resolve("svm"), "flags\t\t: fpu svm\n");
        Path none = Files.writeString(dir.resolve("none"), "flags\t\t: fpu pni hypervisor\nvmx flags\t: ept\n");

        assertThat(Accelerator.kvmUsable(dev, vmx)).isTrue();
        assertThat(Accelerator.kvmUsable(dev, svm)).isTrue();
        assertThat(Accelerator.kvmUsable(dev, none)).as("a paravirtual KVM without vmx/svm runs no stock guest").isFalse();
        assertThat(Accelerator.kvmUsable(dir.resolve("absent"), vmx)).isFalse();
        assertThat(Accelerator.kvmUsable(dev, dir.resolve("no-cpuinfo"))).isFalse();
    }
}
