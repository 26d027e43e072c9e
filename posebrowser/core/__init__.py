"""posebrowser.core"""
