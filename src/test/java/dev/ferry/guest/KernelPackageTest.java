package dev.ferry.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class KernelPackageTest {

    @Test
    void candidateIn_readsTheCandidateVersion() throws GuestBuildException {
        String policy = """
                linux-image-cloud-amd64:
                  Installed: (none)
                  Candidate: 6.1.192-2
                  Version table:
                     6.1.192-2 500
                """;

        assertThat(KernelPackage.candidateIn(policy)).isEqualTo("6.1.192-2");
    }

    @Test
    void candidateIn_withEmptyPackageLists_saysToRunAptGetUpdate() {
        assertThatThrownBy(() -> KernelPackage.candidateIn(""))
                .isInstanceOf(GuestBuildException.class)
                .hasMessageContaining("linux-image-cloud-amd64")
                .hasMessageContaining("apt-get update");
        assertThatThrownBy(() -> KernelPackage.candidateIn("linux-image-cloud-amd64:\n  Installed: (none)\n  Candidate: (none)\n"))
                .hasMessageContaining("apt-get update");
    }

    @Test
    void imageDependency_pinsTheVersionedImagePackage() {
        assertThat(KernelPackage.imageDependency("linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)"))
                .contains("linux-image-6.1.0-56-cloud-amd64=6.1.192-2");
        assertThat(KernelPackage.imageDependency("initramfs-tools | linux-initramfs-tool, linux-image-6.12.9-cloud-amd64"))
                .contains("linux-image-6.12.9-cloud-amd64");
        assertThat(KernelPackage.imageDependency("libc6 (>= 2.36)")).isEmpty();
    }
}
