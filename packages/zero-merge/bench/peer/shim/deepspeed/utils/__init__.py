# zero_to_fp32.py imports `logger` from here. DeepSpeed's is logging.getLogger("DeepSpeed") at WARNING
# (deepspeed/utils/logging.py, LoggerFactory.create_logger); zero_to_fp32 only calls logger.info, in functions
# the command line never reaches.
import logging

logger = logging.getLogger("DeepSpeed")
logger.setLevel(logging.WARNING)
