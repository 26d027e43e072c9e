"""posebrowser.nets"""
