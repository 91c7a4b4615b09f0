import time
from hwkit import models, data, training
(x,y),(xt,yt)=data.load_mnist()
x=data.to_float(x); xt=data.to_float(xt)
c=models.compile_classifier(models.chain(models.conv_encoder(),models.mlp_head(),"c"),3e-3,469*8)
t=time.time(); c.fit(training.dataset(x,y,128,shuffle=True, augment=models.mnist_augmentation()),epochs=8,verbose=2, validation_data=(xt,yt)); print("clf 8 ep",time.time()-t)
