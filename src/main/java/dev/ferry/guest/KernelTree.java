package dev.ferry.guest;

import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * A kernel package unpacked into a directory: its vmlinuz and the modules the guest needs, picked
 * from {@code lib/modules/VERSION} in load order. A module the kernel has built in is skipped; one
 * it has neither built in nor as a file is an error. Debian ships no modules.dep in the package
 * (depmod writes it at install time), so without one the dependencies come from each module's
 * {@code .modinfo depends=} line.
 */
final class KernelTree {
    private static final Duration DECOMPRESS_TIMEOUT = Duration.ofMinutes(1);

    private final Path moduleDir;
    private final String version;
    private final Path vmlinuz;
    private final ProcessRunner runner;
    private final Path scratch;
    private final Map<String, byte[]> contents = new HashMap<>();

    private KernelTree(Path moduleDir, String version, Path vmlinuz, ProcessRunner runner, Path scratch) {
        this.moduleDir = moduleDir;
        this.version = version;
        this.vmlinuz = vmlinuz;
        this.runner = runner;
        this.scratch = scratch;
    }

    /** Finds the one kernel in an unpacked package; {@code scratch} takes decompressed modules. */
    static KernelTree locate(Path unpacked, ProcessRunner runner, Path scratch) throws GuestBuildException {
        Path modulesRoot = unpacked.resolve("lib/modules");
        if (!Files.isDirectory(modulesRoot)) {
            modulesRoot = unpacked.resolve("usr/lib/modules");
        }
        List<Path> versions = list(modulesRoot);
        if (versions.size() != 1) {
            throw new GuestBuildException("expected one kernel under " + modulesRoot + ", found " + versions.size()
                    + "; is this a linux-image package?");
        }
        String version = versions.get(0).getFileName().toString();
        Path vmlinuz = unpacked.resolve("boot/vmlinuz-" + version);
        if (!Files.isRegularFile(vmlinuz)) {
            throw new GuestBuildException("kernel package has modules for " + version + " but no " + vmlinuz);
        }
        return new KernelTree(versions.get(0), version, vmlinuz, runner, scratch);
    }

    String version() {
        return version;
    }

    Path vmlinuz() {
        return vmlinuz;
    }

    /** Names of the modules compiled into the kernel image. */
    Set<String> builtin() throws IOException {
        Path file = moduleDir.resolve("modules.builtin");
        Set<String> names = new HashSet<>();
        if (Files.isRegularFile(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    names.add(ModuleDeps.nameOf(line.strip()));
                }
            }
        }
        return names;
    }

    /**
     * The modules {@code wanted} needs that are not built in, each after its dependencies, as
     * plain ELF files.
     */
    List<Initramfs.Module> modulesFor(List<String> wanted) throws GuestBuildException {
        try {
            Set<String> builtin = builtin();
            Map<String, Path> files = moduleFiles();
            Map<String, ModuleDeps.Entry> depmod = readModulesDep();
            List<String> roots = new ArrayList<>();
            for (String name : wanted) {
                if (builtin.contains(name)) {
                    continue;
                }
                if (!files.containsKey(name)) {
                    throw new GuestBuildException("kernel " + version + " has no module " + name
                            + " and does not have it built in; the guest needs it");
                }
                roots.add(name);
            }
            List<String> order = ModuleDeps.loadOrder(roots, name -> needs(name, files, depmod));
            List<Initramfs.Module> modules = new ArrayList<>();
            for (String name : order) {
                modules.add(new Initramfs.Module(name, content(name, files)));
            }
            return modules;
        } catch (IOException | UncheckedIOException e) {
            throw new GuestBuildException("cannot read the modules of kernel " + version + " in " + moduleDir + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException | ModuleException e) {
            throw new GuestBuildException("kernel " + version + ": " + e.getMessage(), e);
        }
    }

    private List<String> needs(String name, Map<String, Path> files, Map<String, ModuleDeps.Entry> depmod) {
        if (!depmod.isEmpty()) {
            ModuleDeps.Entry entry = depmod.get(name);
            if (entry == null) {
                throw new ModuleException("modules.dep has no line for module " + name);
            }
            return entry.needs();
        }
        for (String info : Elf.parse(name, content(name, files)).modinfo()) {
            if (info.startsWith("depends=")) {
                return ModuleDeps.parseDepends(info.substring("depends=".length()));
            }
        }
        return List.of();
    }

    private byte[] content(String name, Map<String, Path> files) {
        byte[] cached = contents.get(name);
        if (cached != null) {
            return cached;
        }
        Path file = files.get(name);
        if (file == null) {
            throw new ModuleException("module " + name + " is needed but not in the package");
        }
        try {
            byte[] content = decompress(file);
            contents.put(name, content);
            return content;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ModuleException("interrupted while decompressing " + file);
        }
    }

    /** Busybox insmod may lack xz/zstd support, so modules go into the guest uncompressed. */
    private byte[] decompress(Path file) throws IOException, InterruptedException {
        String fileName = file.getFileName().toString();
        if (fileName.endsWith(".ko")) {
            return Files.readAllBytes(file);
        }
        if (fileName.endsWith(".ko.gz")) {
            try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
                return in.readAllBytes();
            }
        }
        Path copy = scratch.resolve(fileName);
        Files.copy(file, copy, StandardCopyOption.REPLACE_EXISTING);
        String plain = fileName.substring(0, fileName.lastIndexOf('.'));
        Command command;
        if (fileName.endsWith(".ko.xz")) {
            command = Command.of("xz", "-d", "-f", "-q", fileName);
        } else if (fileName.endsWith(".ko.zst")) {
            command = Command.of("zstd", "-d", "-f", "-q", "--rm", fileName, "-o", plain);
        } else {
            throw new ModuleException("module file " + file + " has an unknown compression");
        }
        ProcResult result = runner.run(command.workDir(scratch).timeout(DECOMPRESS_TIMEOUT));
        if (!result.ok()) {
            throw new ModuleException("cannot decompress " + file + ": " + result.describe());
        }
        Path out = scratch.resolve(plain);
        byte[] content = Files.readAllBytes(out);
        Files.delete(out);
        return content;
    }

    private Map<String, Path> moduleFiles() throws IOException {
        Map<String, Path> files = new HashMap<>();
        try (Stream<Path> walk = Files.walk(moduleDir)) {
            walk.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().matches(".+\\.ko(\\.(xz|zst|gz))?"))
                    .forEach(p -> files.put(ModuleDeps.nameOf(p.getFileName().toString()), p));
        }
        return files;
    }

    private Map<String, ModuleDeps.Entry> readModulesDep() throws IOException {
        Path file = moduleDir.resolve("modules.dep");
        return Files.isRegularFile(file) ? ModuleDeps.parse(Files.readString(file)) : Map.of();
    }

    private static List<Path> list(Path dir) throws GuestBuildException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isDirectory).toList();
        } catch (IOException e) {
            throw new GuestBuildException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Carries a module problem out of the dependency walk's lambda. */
    private static final class ModuleException extends RuntimeException {
        ModuleException(String message) {
            super(message);
        }
    }
}
