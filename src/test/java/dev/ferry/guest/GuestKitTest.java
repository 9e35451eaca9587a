package dev.ferry.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.proc.ProcessRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestKitTest {
    @TempDir
    Path cache;

    @Test
    void build_withADynamicBusybox_asksForBusyboxStaticBeforeFetchingAnything() throws Exception {
        Path dynamic = Path.of("/bin/ls");
        assumeTrue(Files.isRegularFile(dynamic) && !Elf.parse("ls", Files.readAllBytes(dynamic)).isStatic(),
                "/bin/ls is not a dynamic executable here");
        GuestKit kit = new GuestKit(cache, new ProcessRunner(), dynamic, Clock.systemUTC());

        assertThatThrownBy(kit::build)
                .isInstanceOf(GuestBuildException.class)
                .hasMessageContaining("/bin/ls")
                .hasMessageContaining("busybox-static");
        try (var children = Files.list(cache)) {
            assertThat(children).isEmpty();
        }
    }

    @Test
    void build_withoutBusybox_namesTheFileAndThePackage() {
        Path missing = cache.resolve("busybox");
        GuestKit kit = new GuestKit(cache, new ProcessRunner(), missing, Clock.systemUTC());

        assertThatThrownBy(kit::build).hasMessageContaining(missing.toString()).hasMessageContaining("busybox-static");
    }

    @Test
    void inUserCache_usesTheFerryGuestDirectory() {
        assertThat(GuestKit.inUserCache(new ProcessRunner()).cacheDir()).endsWithRaw(Path.of("ferry", "guest"));
    }

    @Test
    void entryName_keepsVersionsWithEpochsUsableAsDirectoryNames() {
        assertThat(GuestKit.entryName("1:6.1.192-2", "abc123")).isEqualTo("1_6.1.192-2-abc123");
    }

    @Test
    void elf_hostBusyboxIsStaticX86() throws Exception {
        Path busybox = Path.of("/bin/busybox");
        assumeTrue(Files.isRegularFile(busybox), "busybox is not installed");
        Elf elf = Elf.parse("busybox", Files.readAllBytes(busybox));

        assertThat(elf.isX86_64()).isTrue();
        assertThat(elf.isStatic()).isTrue();
    }

    @Test
    void elf_rejectsAFileThatIsNotElf() {
        assertThatThrownBy(() -> Elf.parse("init", "#!/bin/sh\n".repeat(10).getBytes()))
                .hasMessageContaining("init is not an ELF file");
    }
}
