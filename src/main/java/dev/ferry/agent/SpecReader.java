package dev.ferry.agent;

import dev.ferry.vm.SpecException;
import dev.ferry.vm.VmSpec;
import java.nio.file.Path;

/** Turns spec text into a {@link VmSpec}; {@code VmSpecParser::parse} in production, a fake in tests. */
@FunctionalInterface
public interface SpecReader {
    VmSpec read(String yaml, Path baseDir) throws SpecException;
}
