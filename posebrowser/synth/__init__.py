"""posebrowser.synth — the built-in synthetic gallery generator (numpy + Pillow only at run time).

Modules: ``assets`` (baked body bank, motion clips, photos in ``resources/synth``), ``fk`` (rotations and
DeepMimic clip FK), ``skin`` (Anny bone rotations, world-orient FK, LBS), ``poses`` (sampler, self-collision,
``sample_poses``), ``camera`` (tightly fitted pinhole cameras), ``appearance`` (clothes, light, ground,
backgrounds), ``raster`` (numpy z-buffer), ``scene`` (shading, shadows, compositing), ``sample`` (one image
with its annotations), ``generate`` (gallery writer with workers and resume), ``command`` (``posebrowser
synth``).
"""
