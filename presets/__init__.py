"""Stock presets shipped with vfxgen (data only; installed as the package `vfxgen.builtin_presets`)."""
