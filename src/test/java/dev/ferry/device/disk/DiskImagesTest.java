package dev.ferry.device.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.proc.ProcessRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskImagesTest {
    private final ObjectMapper mapper = new ObjectMapper();
    private final DiskImages images = new DiskImages(new ProcessRunner());

    @TempDir
    Path dir;

    @Test
    void parseInfo_backingChainCountsEveryLayersAllocation() throws Exception {
        String chain = """
                [{"virtual-size": 1073741824, "filename": "top.qcow2", "format": "qcow2", "actual-size": 1000,
                  "backing-filename": "base.qcow2"},
                 {"virtual-size": 1073741824, "filename": "base.qcow2", "format": "qcow2", "actual-size": 500}]
                """;
        DiskImage image = DiskImages.parseInfo(Path.of("top.qcow2"), mapper.readTree(chain), false);
        assertThat(image).isEqualTo(new DiskImage(Path.of("top.qcow2"), "qcow2", 1073741824L, 1500, false));
    }

    @Test
    void parseInfo_acceptsASingleObject() throws Exception {
        String one = "{\"virtual-size\": 67108864, \"format\": \"raw\", \"actual-size\": 4096}";
        assertThat(DiskImages.parseInfo(Path.of("a.raw"), mapper.readTree(one), true))
                .isEqualTo(new DiskImage(Path.of("a.raw"), "raw", 67108864L, 4096, true));
    }

    @Test
    void parseInfo_withoutFormatFails() throws Exception {
        assertThatThrownBy(() -> DiskImages.parseInfo(Path.of("x"), mapper.readTree("[{\"virtual-size\": 1}]"), false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("format");
    }

    @Test
    void isBlockDevice_filesAndCharacterDevicesAreNot() throws Exception {
        Path file = Files.createFile(dir.resolve("disk.img"));
        assertThat(DiskImages.isBlockDevice(file)).isFalse();
        assertThat(DiskImages.isBlockDevice(Path.of("/dev/null"))).isFalse();
    }

    @Test
    void info_missingImageNamesThePath() {
        Path missing = dir.resolve("missing.qcow2");
        assertThatThrownBy(() -> images.info(missing))
                .isInstanceOf(DiskException.class).hasMessageContaining(missing.toString()).hasMessageContaining("does not exist");
    }

    @Test
    void create_refusesToOverwriteAnExistingFile() throws Exception {
        Path existing = Files.writeString(dir.resolve("target.qcow2"), "someone's data");
        assertThatThrownBy(() -> images.create(existing, "qcow2", 1024))
                .isInstanceOf(DiskException.class).hasMessageContaining("already there");
        assertThat(Files.readString(existing)).isEqualTo("someone's data");
    }

    @Test
    void delete_isTrueOnlyWhenTheImageExisted() throws Exception {
        Path partial = Files.createFile(dir.resolve("partial.qcow2"));
        assertThat(images.delete(partial)).isTrue();
        assertThat(images.delete(partial)).isFalse();
        assertThat(partial).doesNotExist();
    }

    @Test
    void createPreallocated_qcow2_holdsTheReservedBlocksAndKeepsItsVirtualSize() throws Exception {
        Path image = dir.resolve("copy.qcow2");
        long reserve = 8L * 1024 * 1024;

        images.createPreallocated(image, "qcow2", 64L * 1024 * 1024, reserve);

        DiskImage made = images.info(image);
        assertThat(made.virtualSize()).isEqualTo(64L * 1024 * 1024);
        assertThat(made.actualSize()).as("blocks held for the copy").isGreaterThanOrEqualTo(reserve);
        assertThat(Files.size(image)).as("the qcow2 file itself stays small").isLessThan(reserve);
    }

    @Test
    void createPreallocated_overSomeoneElsesFile_refusesAndKeepsIt() throws Exception {
        Path image = dir.resolve("theirs.raw");
        Files.writeString(image, "not ours");

        assertThatThrownBy(() -> images.createPreallocated(image, "raw", 1024 * 1024, 1024 * 1024))
                .isInstanceOf(DiskException.class).hasMessageContaining("a file is already there");
        assertThat(image).hasContent("not ours");
    }
}
