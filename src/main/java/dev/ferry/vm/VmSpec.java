package dev.ferry.vm;

/** A VM's definition, parsed and validated by {@link VmSpecParser}. (Placeholder: grows with the parser.) */
public record VmSpec(String name) {}
