"""posebrowser.training"""
