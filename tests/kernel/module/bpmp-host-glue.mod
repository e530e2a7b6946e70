/work/wt-glue/tests/kernel/module/glue.o
/work/wt-glue/tests/kernel/module/policy.o
