"""posebrowser.synth"""
