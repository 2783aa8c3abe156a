// Kernels.swift — namespace of the compute kernels; Swift faces of the CKernels C loops.
//
// Each kernel takes views, output first (llama2.c style), and forwards to a C loop that is
// compiled per x86-64 level and chosen at load time (see Sources/CKernels).

enum Kernels {}
