/* TEST ONLY: a shared object without the descriptor symbol. */
int vh_not_a_plugin (void);
int vh_not_a_plugin (void) { return 42; }
